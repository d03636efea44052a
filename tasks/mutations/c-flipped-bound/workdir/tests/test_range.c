#include <stdio.h>
#include <string.h>

static int passed, failed;

static void check(int condition, const char *name)
{
    if (condition) {
        passed++;
        printf("ok %s\n", name);
    } else {
        failed++;
        printf("FAIL %s\n", name);
    }
}

#include "range.h"

int main(void)
{
    check(in_range(5, 1, 10) == 1, "inside");
    check(in_range(1, 1, 10) == 1, "at the low bound");
    check(in_range(10, 1, 10) == 1, "at the high bound");
    check(in_range(0, 1, 10) == 0, "below");
    check(in_range(11, 1, 10) == 0, "above");
    check(in_range(-3, -5, -1) == 1, "negative range");

    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
