#include <stdio.h>

int main(void)
{
    puts("hello from a program built inside cordon");
    return 0;
}
