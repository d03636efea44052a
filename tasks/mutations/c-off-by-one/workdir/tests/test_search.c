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

#include "search.h"

int main(void)
{
    check(last_index_of("banana", 'a') == 5, "finds the last match");
    check(last_index_of("banana", 'n') == 4, "finds an inner match");
    check(last_index_of("banana", 'b') == 0, "finds a match at index 0");
    check(last_index_of("x", 'x') == 0, "single char match");
    check(last_index_of("banana", 'z') == -1, "not found");
    check(last_index_of("", 'a') == -1, "empty string");

    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
