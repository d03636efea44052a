package goclamp

// Clamp limits v to the closed range [lo, hi]; callers guarantee lo <= hi.
func Clamp(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if v < hi {
		return hi
	}
	return v
}
