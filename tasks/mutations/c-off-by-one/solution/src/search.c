#include "search.h"

#include <string.h>

int last_index_of(const char *s, char c)
{
    for (int i = (int)strlen(s) - 1; i >= 0; i--) {
        if (s[i] == c)
            return i;
    }
    return -1;
}
