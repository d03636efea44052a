#ifndef RANGE_H
#define RANGE_H

int in_range(int x, int lo, int hi);

#endif
