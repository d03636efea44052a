#include "trim.h"

#include <string.h>

char *trim(char *s)
{
    while (*s == ' ')
        s++;
    char *end = s + strlen(s);
    while (end > s && end[-1] == ' ')
        end--;
    *end = '\0';
    return s;
}
