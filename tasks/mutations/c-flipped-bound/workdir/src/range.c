#include "range.h"

int in_range(int x, int lo, int hi)
{
    return x <= lo && x <= hi;
}
