package hexid

import (
	"encoding/binary"
	stdhex "encoding/hex"
	"strings"
	"testing"
)

func TestDecodeLower(t *testing.T) {
	for _, tc := range []struct {
		name, src string
		ok        bool
	}{
		{"lower-case digits decode", "00f067aa0ba902b7", true},
		{"every digit decodes", "0123456789abcdef", true},
		{"an upper-case digit is refused", "00F067aa0ba902b7", false},
		{"a dash is refused", "00f067aa-ba902b7", false},
		{"a byte above 0x7f is refused", "00f067aa0ba902\xb7b", false},
		{"a non-digit last is refused", "00f067aa0ba902bg", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dst := make([]byte, len(tc.src)/2)
			ok := DecodeLower(dst, []byte(tc.src))
			if ok != tc.ok {
				t.Fatalf("DecodeLower(%q) ok = %v, want %v", tc.src, ok, tc.ok)
			}
			if want, _ := stdhex.DecodeString(tc.src); ok && string(dst) != string(want) {
				t.Errorf("DecodeLower(%q) = %x, want %x", tc.src, dst, want)
			}
		})
	}
}

// TestTablesAgreeWithTheStandardLibrary checks every byte of both tables.
func TestTablesAgreeWithTheStandardLibrary(t *testing.T) {
	for c := range 256 {
		v, err := stdhex.DecodeString(string([]byte{'0', byte(c)}))
		isLower := err == nil && !strings.ContainsAny(string(rune(c)), "ABCDEF")
		if got := Lower[c] <= 0xf; got != isLower || isLower && Lower[c] != v[0] {
			t.Errorf("Lower[%q] = %#x", rune(c), Lower[c])
		}
		if got := AnyCase[c] <= 0xf; got != (err == nil) || err == nil && AnyCase[c] != v[0] {
			t.Errorf("AnyCase[%q] = %#x", rune(c), AnyCase[c])
		}
	}
}

func BenchmarkDecodeLower(b *testing.B) {
	src := []byte("4bf92f3577b34da6a3ce929d0e0e4736")
	var dst [16]byte
	for b.Loop() {
		DecodeLower(dst[:], src)
	}
}

// TestIsLowerWordAgreesWithTheTable puts every byte value at every position of a word of
// digits, and checks a few words whole.
func TestIsLowerWordAgreesWithTheTable(t *testing.T) {
	base := []byte("0a1b2c3d")
	for pos := range 8 {
		for c := range 256 {
			w := append([]byte(nil), base...)
			w[pos] = byte(c)
			want := Lower[c] <= 0xf
			if got := IsLowerWord(binary.LittleEndian.Uint64(w)); got != want {
				t.Fatalf("IsLowerWord(%q) = %v, want %v", w, got, want)
			}
		}
	}
	for _, tc := range []struct {
		w    string
		want bool
	}{
		{"01234567", true}, {"89abcdef", true}, {"ffffffff", true}, {"00000000", true},
		{"0123456F", false}, {"/0000000", false}, {"0000000:", false}, {"`aaaaaaa", false},
		{"aaaaaaag", false}, {"\xff\xff\xff\xff\xff\xff\xff\xff", false}, {"\x80\x80\x80\x80\x80\x80\x80\x80", false},
	} {
		if got := IsLowerWord(binary.LittleEndian.Uint64([]byte(tc.w))); got != tc.want {
			t.Errorf("IsLowerWord(%q) = %v, want %v", tc.w, got, tc.want)
		}
	}
}
