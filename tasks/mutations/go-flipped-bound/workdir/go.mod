module codingagentbench/goclamp

go 1.19
