// A C++ program for demangling: overloads, a namespace, a class method, a
// template, an operator, and a backtrace through them.
#include <cstdio>

namespace shapes {

struct Vec {
    int x, y;
    Vec operator+(const Vec &o) const { return Vec{x + o.x, y + o.y}; }
};

__attribute__((noinline)) int area(int w, int h) { return w * h; }
__attribute__((noinline)) double area(double r) { return 3.0 * r * r; }

class Counter {
public:
    __attribute__((noinline)) int bump(int by) { total += by; return total; }
    int total = 0;
};

template <typename T> __attribute__((noinline)) T twice(T v) { return v + v; }

}  // namespace shapes

__attribute__((noinline)) static int outer(shapes::Counter &c)
{
    return c.bump(shapes::area(2, 3));
}

int main()
{
    shapes::Counter c;
    shapes::Vec v = shapes::Vec{1, 2} + shapes::Vec{3, 4};
    int n = outer(c) + shapes::twice(v.x) + (int)shapes::area(1.0);
    std::printf("%d\n", n);
    return 0;
}
