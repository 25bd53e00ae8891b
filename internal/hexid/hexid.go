// Package hexid decodes the hex IDs on the sink's hot paths (trace context, request IDs)
// with a table lookup per digit: every access-log record carries 50 to 82 of them.
package hexid

// notDigit marks a byte that is not a digit in a table; any value above 0xf would do.
const notDigit = 0xff

// Lower and AnyCase map a hex digit to its value and every other byte to a value above 0xf:
// Lower takes lower-case digits only (W3C Trace Context), AnyCase either case (UUIDs).
var (
	Lower   = table("0123456789abcdef", "")
	AnyCase = table("0123456789abcdef", "ABCDEF")
)

func table(digits, upper string) (t [256]byte) {
	for i := range t {
		t[i] = notDigit
	}
	for i, c := range digits {
		t[c] = byte(i)
	}
	for i, c := range upper {
		t[c] = byte(10 + i)
	}
	return t
}

// DecodeLower decodes the lower-case hex src into dst, len(src) == 2*len(dst), and reports
// whether every byte of src was a lower-case hex digit. dst holds garbage when it was not.
// (Testing each digit is faster here than one test per ID: the branch is always predicted,
// and it keeps the digits' loads independent.)
func DecodeLower(dst, src []byte) bool {
	src = src[:2*len(dst)] // one bounds check for the loop
	for i := range dst {
		hi, lo := Lower[src[2*i]], Lower[src[2*i+1]]
		if hi|lo > 0xf {
			return false
		}
		dst[i] = hi<<4 | lo
	}
	return true
}

// Word tests for IsLowerWord: multiples of ones, and each byte's high bit.
const (
	ones = 0x0101010101010101
	high = 0x8080808080808080
)

// IsLowerWord reports whether each of the eight bytes of w (the little-endian load of
// eight digits) is a lower-case hex digit: a test of a word at once, where DecodeLower
// looks each digit up. For a byte b below 0x80, b + (0x80-lo) has its high bit set exactly
// when b >= lo, and no carry leaves the byte.
func IsLowerWord(w uint64) bool {
	atLeast0 := w + (0x80-'0')*ones
	above9 := w + (0x80-'9'-1)*ones
	atLeastA := w + (0x80-'a')*ones
	aboveF := w + (0x80-'f'-1)*ones
	digit := atLeast0 &^ above9
	letter := atLeastA &^ aboveF
	return w&high == 0 && (digit|letter)&high == high
}
