// tlog_interop checks Argus Events' transparency log with the Go checksum database's own packages,
// golang.org/x/mod/sumdb/note (signed notes) and golang.org/x/mod/sumdb/tlog (tiles and proofs):
//
//		tlog_interop -vkey VKEY -archive DIR [-leaves FILE] [-old-checkpoint FILE] [-prove FILE]... [-consistency FILE]...
//
//	  - the archive's `checkpoint` is opened with note.Open and the verifier key (Argus's vkey is Go's
//	    verifier key format); its body is a C2SP tlog-checkpoint (origin, size, base64 root);
//	  - the archive's hash tiles (C2SP tile/<L>/<N>[.p/<W>]: Go's tile/8/<L>/<N> without the height) are
//	    read through tlog.TileHashReader, which authenticates each tile against the signed tree, and
//	    tlog.TreeHash must give the signed root;
//	  - every line of -leaves (`argus-events tail --format json` output) is proven with tlog.ProveRecord
//	    from the tiles and checked with tlog.CheckRecord against the signed root;
//	  - -old-checkpoint: tlog.ProveTree from the tiles, checked with tlog.CheckTree;
//	  - -prove: `argus-events prove --offset N` output; its leaf, proof and checkpoint checked with
//	    tlog.RecordHash, note.Open and tlog.CheckRecord (Argus's proof, Go's checker);
//	  - -consistency: `argus-events prove --from M --tree-size N` output, checked with tlog.CheckTree
//	    between the roots of -old-checkpoint (size M) and the archive's checkpoint (size N).
//
// Prints "ok ..." lines; exits 1 with "FAILED: ..." at the first failure, 2 for a usage error.
// Built in GOPATH mode against Debian's golang-golang-x-mod-dev (tools/tlog_interop.sh).
package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func fail(format string, args ...interface{}) {
	fmt.Printf("FAILED: "+format+"\n", args...)
	os.Exit(1)
}

// checkpoint opens a signed note with the verifier and parses its C2SP tlog-checkpoint body.
func checkpoint(text []byte, verifiers note.Verifiers, origin string) (tlog.Tree, error) {
	n, err := note.Open(text, verifiers)
	if err != nil {
		return tlog.Tree{}, err
	}
	lines := strings.SplitN(n.Text, "\n", 4)
	if len(lines) < 4 || lines[0] != origin {
		return tlog.Tree{}, fmt.Errorf("checkpoint body does not start with the origin %q", origin)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || size < 0 || lines[1] != strconv.FormatInt(size, 10) {
		return tlog.Tree{}, fmt.Errorf("checkpoint tree size %q", lines[1])
	}
	root, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(root) != tlog.HashSize {
		return tlog.Tree{}, fmt.Errorf("checkpoint root %q", lines[2])
	}
	var tree tlog.Tree
	tree.N = size
	copy(tree.Hash[:], root)
	return tree, nil
}

// archiveTiles reads C2SP tiles from an archive directory for tlog.TileHashReader.
type archiveTiles struct{ root string }

func (a archiveTiles) Height() int { return 8 }

func (a archiveTiles) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	data := make([][]byte, len(tiles))
	for i, t := range tiles {
		// Go names tile/8/L/N; C2SP tlog-tiles drops the height: tile/L/N.
		path := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		content, err := os.ReadFile(filepath.Join(a.root, path))
		if err != nil {
			return nil, err
		}
		if len(content) != t.W*tlog.HashSize {
			return nil, fmt.Errorf("tile %s is %d bytes, not %d", path, len(content), t.W*tlog.HashSize)
		}
		data[i] = content
	}
	return data, nil
}

func (a archiveTiles) SaveTiles([]tlog.Tile, [][]byte) {}

func hashes(list []string) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(list))
	for i, text := range list {
		raw, err := base64.StdEncoding.DecodeString(text)
		if err != nil || len(raw) != tlog.HashSize {
			return nil, errors.New("a proof hash is not base64 of 32 bytes")
		}
		copy(out[i][:], raw)
	}
	return out, nil
}

func main() {
	vkey := flag.String("vkey", "", "the log's verifier key (argus-events checkpoint --vkey)")
	archive := flag.String("archive", "", "an archive directory (argus-events archive --target file:///DIR)")
	leaves := flag.String("leaves", "", "argus-events tail --format json output: every line is proven")
	oldCheckpoint := flag.String("old-checkpoint", "", "an older checkpoint to prove the archive's tree consistent with")
	var proves, consistencies multi
	flag.Var(&proves, "prove", "argus-events prove --offset N output (repeatable)")
	flag.Var(&consistencies, "consistency", "argus-events prove --from M --tree-size N output (repeatable)")
	flag.Parse()
	if *vkey == "" || *archive == "" {
		flag.Usage()
		os.Exit(2)
	}
	verifier, err := note.NewVerifier(*vkey)
	if err != nil {
		fail("note.NewVerifier: %v", err)
	}
	verifiers := note.VerifierList(verifier)
	text, err := os.ReadFile(filepath.Join(*archive, "checkpoint"))
	if err != nil {
		fail("reading the archive's checkpoint: %v", err)
	}
	tree, err := checkpoint(text, verifiers, verifier.Name())
	if err != nil {
		fail("the archive's checkpoint: %v", err)
	}
	fmt.Printf("ok   note.Open: the archive's checkpoint of %s at size %d is signed by the verifier key\n", verifier.Name(), tree.N)

	reader := tlog.TileHashReader(tree, archiveTiles{*archive})
	root, err := tlog.TreeHash(tree.N, reader)
	if err != nil {
		fail("tlog.TreeHash over the archive's tiles: %v", err)
	}
	if root != tree.Hash {
		fail("tlog.TreeHash over the archive's tiles gives %v, the checkpoint says %v", root, tree.Hash)
	}
	fmt.Printf("ok   tlog.TileHashReader + tlog.TreeHash: the archive's tiles give the signed root\n")

	if *leaves != "" {
		file, err := os.Open(*leaves)
		if err != nil {
			fail("%v", err)
		}
		scanner := bufio.NewScanner(file)
		scanner.Buffer(make([]byte, 4<<20), 4<<20)
		count := int64(0)
		for scanner.Scan() {
			line := scanner.Bytes()
			var event struct{ Offset int64 }
			if err := json.Unmarshal(line, &event); err != nil {
				fail("a -leaves line is not an envelope: %v", err)
			}
			if event.Offset >= tree.N {
				continue
			}
			proof, err := tlog.ProveRecord(tree.N, event.Offset, reader)
			if err != nil {
				fail("tlog.ProveRecord(%d, %d): %v", tree.N, event.Offset, err)
			}
			if err := tlog.CheckRecord(proof, tree.N, tree.Hash, event.Offset, tlog.RecordHash(append([]byte(nil), line...))); err != nil {
				fail("tlog.CheckRecord of offset %d: %v", event.Offset, err)
			}
			count++
		}
		if count == 0 {
			fail("no -leaves line is in the archive's tree")
		}
		fmt.Printf("ok   tlog.ProveRecord + tlog.CheckRecord: %d tail lines are leaves of the signed tree\n", count)
	}

	var old tlog.Tree
	if *oldCheckpoint != "" {
		text, err := os.ReadFile(*oldCheckpoint)
		if err != nil {
			fail("%v", err)
		}
		if old, err = checkpoint(text, verifiers, verifier.Name()); err != nil {
			fail("the old checkpoint: %v", err)
		}
		proof, err := tlog.ProveTree(tree.N, old.N, reader)
		if err != nil {
			fail("tlog.ProveTree(%d, %d): %v", tree.N, old.N, err)
		}
		if err := tlog.CheckTree(proof, tree.N, tree.Hash, old.N, old.Hash); err != nil {
			fail("tlog.CheckTree from %d to %d: %v", old.N, tree.N, err)
		}
		fmt.Printf("ok   tlog.ProveTree + tlog.CheckTree: the tree of size %d is a prefix of the archive's tree of size %d\n", old.N, tree.N)
	}

	for _, path := range proves {
		var proof struct {
			Offset     int64    `json:"offset"`
			TreeSize   int64    `json:"tree_size"`
			Leaf       string   `json:"leaf"`
			LeafHash   string   `json:"leaf_hash"`
			Inclusion  []string `json:"inclusion"`
			Checkpoint string   `json:"checkpoint"`
		}
		raw, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(raw, &proof)
		}
		if err != nil {
			fail("%s: %v", path, err)
		}
		signed, err := checkpoint([]byte(proof.Checkpoint), verifiers, verifier.Name())
		if err != nil || signed.N != proof.TreeSize {
			fail("%s: its checkpoint (size %d): %v", path, signed.N, err)
		}
		leafHash := tlog.RecordHash([]byte(proof.Leaf))
		if base64.StdEncoding.EncodeToString(leafHash[:]) != proof.LeafHash {
			fail("%s: leaf_hash is not tlog.RecordHash(leaf)", path)
		}
		path_, err := hashes(proof.Inclusion)
		if err != nil {
			fail("%s: %v", path, err)
		}
		if err := tlog.CheckRecord(tlog.RecordProof(path_), proof.TreeSize, signed.Hash, proof.Offset, leafHash); err != nil {
			fail("%s: tlog.CheckRecord: %v", path, err)
		}
		fmt.Printf("ok   tlog.CheckRecord accepts argus-events prove --offset %d --tree-size %d\n", proof.Offset, proof.TreeSize)
	}

	for _, path := range consistencies {
		var proof struct {
			From        int64    `json:"from"`
			To          int64    `json:"to"`
			Consistency []string `json:"consistency"`
		}
		raw, err := os.ReadFile(path)
		if err == nil {
			err = json.Unmarshal(raw, &proof)
		}
		if err != nil {
			fail("%s: %v", path, err)
		}
		if *oldCheckpoint == "" || proof.From != old.N || proof.To != tree.N {
			fail("%s: -consistency needs -old-checkpoint of size %d and the archive's size %d", path, proof.From, proof.To)
		}
		list, err := hashes(proof.Consistency)
		if err != nil {
			fail("%s: %v", path, err)
		}
		if err := tlog.CheckTree(tlog.TreeProof(list), tree.N, tree.Hash, old.N, old.Hash); err != nil {
			fail("%s: tlog.CheckTree: %v", path, err)
		}
		fmt.Printf("ok   tlog.CheckTree accepts argus-events prove --from %d --tree-size %d\n", proof.From, proof.To)
	}
	fmt.Println("tlog_interop: ok")
}
