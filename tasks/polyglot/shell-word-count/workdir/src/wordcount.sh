#!/bin/sh
# Print how many words standard input holds.
wc -l | tr -d ' '
