package gotail

// Tail returns the last n lines, oldest first.
func Tail(lines []string, n int) []string {
	if n <= 0 {
		return []string{}
	}
	start := len(lines) - n
	if start < 0 {
		start = 0
	}
	out := make([]string, 0, n)
	for i := start; i < len(lines)-1; i++ {
		out = append(out, lines[i])
	}
	return out
}
