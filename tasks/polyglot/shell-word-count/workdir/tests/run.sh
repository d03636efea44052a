#!/bin/sh
# Runs src/wordcount.sh on fixed inputs; prints "N passed, N failed".
passed=0
failed=0
check() {
  got=$(printf "$2" | sh src/wordcount.sh)
  if [ "$got" = "$3" ]; then
    passed=$((passed + 1))
    echo "ok $1"
  else
    failed=$((failed + 1))
    echo "FAIL $1: got '$got', want '$3'"
  fi
}
check "empty input" "" 0
check "one word" "hello\n" 1
check "words on one line" "the quick brown fox\n" 4
check "words over lines" "a b\nc\n\nd e f\n" 6
check "tabs and spaces" "  one\t two  \n" 2
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
