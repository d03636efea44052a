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

#include "trim.h"

static int trims_to(const char *input, const char *want)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%s", input);
    return strcmp(trim(buf), want) == 0;
}

int main(void)
{
    check(trims_to("  hello  ", "hello"), "trims spaces");
    check(trims_to("\t\n hello world\r\n", "hello world"), "trims tabs and newlines");
    check(trims_to("inner  space", "inner  space"), "keeps inner whitespace");
    check(trims_to("   ", ""), "all blank gives empty");
    check(trims_to(" x", "x"), "single char kept");
    check(trims_to("", ""), "empty string");

    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
