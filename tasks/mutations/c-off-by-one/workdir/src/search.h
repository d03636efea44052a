#ifndef SEARCH_H
#define SEARCH_H

int last_index_of(const char *s, char c);

#endif
