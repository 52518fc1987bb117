package doccache

import (
	"slices"
	"unsafe"

	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/lexer"
)

// entryOverhead is what the LRU itself spends per entry: simplelru's list
// element and map slot, the key's string header, the size beside the
// value (rounded up from about 120 bytes on 64-bit platforms).
const entryOverhead = 128

// TextSize is what a document's text kept under key costs the LRU.
func TextSize(key, text string) int64 {
	return int64(len(key)+len(text)) + entryOverhead
}

// ParsedSize measures what doc, parsed from query and kept under query,
// holds in memory: the text (which the AST's positions keep alive and whose
// substrings are most of its names and string values), every node the
// parser allocated (each struct, slice backing array and string that is
// not part of the text), and the LRU's own entry. What the validator linked
// in from the schema (the definitions of fields, types, directives and
// arguments, the types values were checked against) is shared by every
// document and not counted, nor are the fragment definitions and variable
// definitions it links spreads and variables to, counted once where the
// document lists them.
//
// It is a measure, not an estimate from the text's length: a document's
// AST can be a small fraction of its text (a long string literal is a
// substring of it) or many times it (each field of "{a b c}" is a node of
// about 200 bytes for two bytes of text), so no one factor fits both. It
// walks the AST once, in time linear in it and without allocating (about
// 3% of what parsing and validating cost), and only when a document is
// added. Each allocation counts as Go's allocator rounds it, to its
// size class. TestParsedSizeMatchesTheHeap compares the total with the
// heap's growth for documents of every kind, and fails if a gqlparser
// upgrade adds nodes this walk does not know.
func ParsedSize(query string, doc *ast.QueryDocument) int64 {
	s := sizer{key: query}
	if doc != nil && doc.Position != nil && doc.Position.Src != nil {
		s.text = doc.Position.Src.Input
	}
	s.document(doc)
	return int64(len(query)) + s.total + entryOverhead
}

// Node sizes. A position is the Pos of a lexer.Token the parser copied to
// the heap whole (parser.peekPos returns &peek.Pos): the token is what a
// position keeps alive.
var (
	documentSize     = alloc(unsafe.Sizeof(ast.QueryDocument{}))
	operationSize    = alloc(unsafe.Sizeof(ast.OperationDefinition{}))
	fragmentSize     = alloc(unsafe.Sizeof(ast.FragmentDefinition{}))
	variableSize     = alloc(unsafe.Sizeof(ast.VariableDefinition{}))
	typeSize         = alloc(unsafe.Sizeof(ast.Type{}))
	fieldSize        = alloc(unsafe.Sizeof(ast.Field{}))
	spreadSize       = alloc(unsafe.Sizeof(ast.FragmentSpread{}))
	inlineSize       = alloc(unsafe.Sizeof(ast.InlineFragment{}))
	argumentSize     = alloc(unsafe.Sizeof(ast.Argument{}))
	directiveSize    = alloc(unsafe.Sizeof(ast.Directive{}))
	valueSize        = alloc(unsafe.Sizeof(ast.Value{}))
	childSize        = alloc(unsafe.Sizeof(ast.ChildValue{}))
	commentGroupSize = alloc(unsafe.Sizeof(ast.CommentGroup{}))
	commentSize      = alloc(unsafe.Sizeof(ast.Comment{}))
	sourceSize       = alloc(unsafe.Sizeof(ast.Source{}))
	typenameSize     = alloc(unsafe.Sizeof(ast.FieldDefinition{})) + typeSize
	positionSize     = alloc(max(unsafe.Sizeof(lexer.Token{}), unsafe.Sizeof(ast.Position{})))
	pointerSize      = unsafe.Sizeof(uintptr(0))
	interfaceSize    = unsafe.Sizeof(ast.Selection(nil))
)

type sizer struct {
	// key is the text the entry is kept under, text the document's: a
	// string inside either costs nothing more (and the document's text is
	// counted once, as the key when it is the key).
	key, text string
	total     int64
	source    *ast.Source
	// comments may be shared: the parser hands its pending comment group
	// to every node it starts until one consumes it.
	comments map[*ast.CommentGroup]bool
}

func (s *sizer) document(d *ast.QueryDocument) {
	if d == nil {
		return
	}
	s.total += documentSize
	s.position(d.Position)
	s.comment(d.Comment)
	s.slice(cap(d.Operations), pointerSize)
	for _, op := range d.Operations {
		s.total += operationSize
		s.str(op.Description)
		s.str(op.Name)
		s.variables(op.VariableDefinitions)
		s.directives(op.Directives)
		s.selections(op.SelectionSet)
		s.position(op.Position)
		s.comment(op.Comment)
	}
	s.slice(cap(d.Fragments), pointerSize)
	for _, f := range d.Fragments {
		s.total += fragmentSize
		s.str(f.Description)
		s.str(f.Name)
		s.variables(f.VariableDefinition)
		s.str(f.TypeCondition)
		s.directives(f.Directives)
		s.selections(f.SelectionSet)
		s.position(f.Position)
		s.comment(f.Comment)
	}
}

func (s *sizer) variables(vs ast.VariableDefinitionList) {
	s.slice(cap(vs), pointerSize)
	for _, v := range vs {
		s.total += variableSize
		s.str(v.Description)
		s.str(v.Variable)
		s.typ(v.Type)
		s.value(v.DefaultValue)
		s.directives(v.Directives)
		s.position(v.Position)
		s.comment(v.Comment)
	}
}

func (s *sizer) typ(t *ast.Type) {
	for ; t != nil; t = t.Elem {
		s.total += typeSize
		s.str(t.NamedType)
		s.position(t.Position)
	}
}

func (s *sizer) selections(set ast.SelectionSet) {
	s.slice(cap(set), interfaceSize)
	for _, sel := range set {
		switch sel := sel.(type) {
		case *ast.Field:
			s.total += fieldSize
			s.str(sel.Alias)
			s.str(sel.Name)
			s.arguments(sel.Arguments)
			s.directives(sel.Directives)
			s.selections(sel.SelectionSet)
			s.position(sel.Position)
			s.comment(sel.Comment)
			if sel.Name == "__typename" && sel.Definition != nil {
				// The validator's own definition, made for each __typename
				// (validator/core.Walker.walkSelection).
				s.total += typenameSize
			}
		case *ast.FragmentSpread:
			s.total += spreadSize
			s.str(sel.Name)
			s.directives(sel.Directives)
			s.position(sel.Position)
			s.comment(sel.Comment)
		case *ast.InlineFragment:
			s.total += inlineSize
			s.str(sel.TypeCondition)
			s.directives(sel.Directives)
			s.selections(sel.SelectionSet)
			s.position(sel.Position)
			s.comment(sel.Comment)
		}
	}
}

func (s *sizer) arguments(args ast.ArgumentList) {
	s.slice(cap(args), pointerSize)
	for _, a := range args {
		s.total += argumentSize
		s.str(a.Name)
		s.value(a.Value)
		s.position(a.Position)
		s.comment(a.Comment)
	}
}

func (s *sizer) directives(ds ast.DirectiveList) {
	s.slice(cap(ds), pointerSize)
	for _, d := range ds {
		s.total += directiveSize
		s.str(d.Name)
		s.arguments(d.Arguments)
		s.position(d.Position)
	}
}

func (s *sizer) value(v *ast.Value) {
	if v == nil {
		return
	}
	s.total += valueSize
	s.str(v.Raw)
	s.slice(cap(v.Children), pointerSize)
	for _, c := range v.Children {
		s.total += childSize
		s.str(c.Name)
		s.value(c.Value)
		s.position(c.Position)
		s.comment(c.Comment)
	}
	s.position(v.Position)
	s.comment(v.Comment)
}

func (s *sizer) comment(g *ast.CommentGroup) {
	if g == nil || s.comments[g] {
		return
	}
	if s.comments == nil {
		s.comments = map[*ast.CommentGroup]bool{}
	}
	s.comments[g] = true
	s.total += commentGroupSize
	s.slice(cap(g.List), pointerSize)
	for _, c := range g.List {
		s.total += commentSize
		s.str(c.Value)
		s.position(c.Position)
	}
}

func (s *sizer) position(p *ast.Position) {
	if p == nil {
		return
	}
	s.total += positionSize
	if p.Src != nil && p.Src != s.source {
		// A document has one source; count it once (and its text if it is
		// not the key's).
		s.source = p.Src
		s.total += sourceSize
		if !within(p.Src.Input, s.key) || len(p.Src.Input) != len(s.key) {
			s.total += int64(len(p.Src.Input))
		}
	}
}

func (s *sizer) slice(n int, elem uintptr) {
	if n > 0 {
		s.total += alloc(uintptr(n) * elem)
	}
}

// str counts a string the parser allocated: one not inside the text (an
// escaped or block string's value; names are substrings of the text).
func (s *sizer) str(v string) {
	if v != "" && !within(v, s.text) && !within(v, s.key) {
		s.total += alloc(uintptr(len(v)))
	}
}

// within reports whether str's bytes lie inside outer's.
func within(str, outer string) bool {
	if outer == "" {
		return false
	}
	start := uintptr(unsafe.Pointer(unsafe.StringData(outer)))
	p := uintptr(unsafe.Pointer(unsafe.StringData(str)))
	return p >= start && p+uintptr(len(str)) <= start+uintptr(len(outer))
}

// alloc rounds n up to the size Go's allocator gives it: its size
// classes up to 32 KiB (runtime/sizeclasses.go), whole 8 KiB pages above.
func alloc(n uintptr) int64 {
	size := int64(n)
	if size > sizeClasses[len(sizeClasses)-1] {
		return (size + 8191) &^ 8191
	}
	i, _ := slices.BinarySearch(sizeClasses, size)
	return sizeClasses[i]
}

var sizeClasses = []int64{0, 8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240,
	256, 288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280, 1408, 1536,
	1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528, 6784, 6912, 8192, 9472,
	9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072, 20480, 21760, 24576, 27264, 28672, 32768}
