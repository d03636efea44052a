#!/bin/sh
# Print how many words standard input holds.
wc -w | tr -d ' '
