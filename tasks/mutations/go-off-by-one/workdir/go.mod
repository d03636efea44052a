module codingagentbench/gotail

go 1.19
