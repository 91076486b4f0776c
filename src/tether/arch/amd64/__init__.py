"""x86-64: registers, syscalls, signals, debug registers; ARCH is its table."""
