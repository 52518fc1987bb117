package paging

import (
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"strconv"
	"strings"
)

// cursorVersion starts every cursor's payload; a cursor of another version
// is refused, so the format can change without old cursors being misread.
const cursorVersion = "v1"

// encode returns the cursor of position pos in list: base64url (no
// padding) of "v1|<list>|<pos>|<check>", check being the CRC-32 of what
// precedes it, in hex.
//
// The check makes a cursor tamper-evident, not tamper-proof: an edited
// character, a truncated string or a cursor spliced from two others is
// refused, while someone who re-computes the check gets only a position in
// a list they may page through anyway. That is all a position is worth,
// so no secret key (which every replica would have to share) is needed.
func encode(list string, pos int) string {
	payload := cursorVersion + "|" + list + "|" + strconv.Itoa(pos)
	return base64.RawURLEncoding.EncodeToString(
		fmt.Appendf([]byte(payload), "|%08x", crc32.ChecksumIEEE([]byte(payload))))
}

// decode returns the position a cursor given as argument arg names in
// list, or an *ArgError naming arg.
func decode(list, arg, cursor string) (int, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, &ArgError{Arg: arg, Reason: "malformed cursor (not base64url)"}
	}
	altered := &ArgError{Arg: arg, Reason: "cursor was altered or is not one this API issued"}
	s := string(raw)
	cut := strings.LastIndexByte(s, '|')
	if cut < 0 {
		return 0, altered
	}
	payload, check := s[:cut], s[cut+1:]
	if want := fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(payload))); check != want {
		return 0, altered
	}
	rest, ok := strings.CutPrefix(payload, cursorVersion+"|")
	if !ok {
		return 0, &ArgError{Arg: arg, Reason: "cursor is of a version this API no longer reads; start from the first page"}
	}
	cut = strings.LastIndexByte(rest, '|')
	if cut < 0 {
		return 0, altered
	}
	from, digits := rest[:cut], rest[cut+1:]
	pos, err := strconv.Atoi(digits)
	if err != nil || pos < 0 || strconv.Itoa(pos) != digits {
		return 0, altered
	}
	if from != list {
		return 0, &ArgError{Arg: arg, Reason: "cursor is not from this list"}
	}
	return pos, nil
}
