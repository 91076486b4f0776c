"""i386: a 32-bit process on x86-64 (registers' names, syscalls); ARCH is its table."""
