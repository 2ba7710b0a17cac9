//chapter:images

// Package archive unpacks image layers: tar streams whose entries become the
// files of one overlay lower directory.
//
// A layer comes from the network and is written as root, so every name in it
// is hostile until proved otherwise: a name may climb out with "..", point
// through a symlink planted by an earlier entry, or hard-link a host file into
// the layer. Unpack keeps every write inside its directory and refuses, with
// an error naming the entry, whatever would leave it.
package archive

import (
	"archive/tar"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	securejoin "github.com/cyphar/filepath-securejoin"
	"golang.org/x/sys/unix"
)

// Stats counts what Unpack wrote.
type Stats struct {
	Entries int   // tar entries read, of every type
	Files   int   // regular files written
	Bytes   int64 // bytes of regular-file contents written
	// Ended says whether the archive ended with tar's end-of-archive
	// marker. See CheckEnded.
	Ended bool
}

var (
	// ErrCutShort is in the chain of Unpack's error, or of CheckEnded's,
	// when the archive stops too soon: inside an entry, or after one but
	// without tar's end-of-archive marker. A copy or a download that
	// stopped half-way leaves such archives.
	ErrCutShort = errors.New("the archive is cut short (copy or download it again)")
	// ErrEmpty is CheckEnded's error for an archive of no bytes at all.
	ErrEmpty = errors.New("the archive is empty (0 bytes): a tar archive holds at least its end-of-archive marker")
)

// CheckEnded returns an error unless the archive ended with tar's
// end-of-archive marker: two blocks of zeros, or one, which GNU tar also
// accepts. Without it, nothing tells an archive cut short at an entry's
// boundary from a whole one; Go's tar reader, and GNU tar too, take both
// as whole.
//
// A caller that has no other proof that the archive is whole (a tarball
// to import) calls CheckEnded. A layer checked against its digest is the
// one its author published, whatever its end: a few tools write layers
// without the marker, and Docker takes them.
func (s Stats) CheckEnded() error {
	switch {
	case s.Ended:
		return nil
	case s.Entries == 0:
		return ErrEmpty
	}
	return fmt.Errorf("%w: it stops after %d entries, without tar's end-of-archive marker (two blocks of zeros)", ErrCutShort, s.Entries)
}

// Unpack reads an uncompressed tar stream (an image layer) and writes its
// entries under dir, which must exist and be empty.
//
// Ownership, modes (setuid bits included), modification times and extended
// attributes are kept. OCI whiteouts become overlay whiteouts: ".wh.NAME"
// becomes a character device 0/0 named NAME, and ".wh..wh..opq" marks its
// directory opaque. A later entry replaces an earlier one of the same name,
// as with tar, except that a directory over a directory keeps it.
//
// Names are taken relative to dir, even absolute ones ("/etc/passwd" lands in
// dir/etc/passwd, as tar -x does), and symlinks met on the way resolve as
// they would inside the container, with dir as "/". A name that climbs out
// of dir with "..", and a hard link to a directory or to a file that is not
// in dir, are refused.
//
// Unpack reads r to its end, past the archive's end-of-archive marker, and
// says in Stats.Ended whether the archive had one. A stream that stops
// inside an entry is refused with ErrCutShort.
//
// Unpack expects dir to be private while it runs (a fresh temporary
// directory): it checks each path, then uses it.
func Unpack(r io.Reader, dir string) (Stats, error) {
	root, err := filepath.Abs(dir)
	if err != nil {
		return Stats{}, fmt.Errorf("unpack into %s: %w", dir, err)
	}
	if err := checkEmpty(root); err != nil {
		return Stats{}, err
	}
	u := &unpacker{
		root:     root,
		parents:  map[string]string{},
		dirTimes: map[string]*tar.Header{},
		buf:      make([]byte, 1<<20),
	}
	// Reading ahead of the tar reader saves three reads for every small
	// file (header, contents, padding). Between the two, tail watches what
	// the tar reader takes, to find the end-of-archive marker.
	br := bufio.NewReaderSize(r, 1<<20)
	tail := &tailReader{r: br}
	tr := tar.NewReader(tail)
	var name string // the entry last read, for errors
	for {
		// What Unpack left unread of the last entry (a whiteout's
		// contents, say) is read now, so that the entry's blocks end at
		// the next block boundary.
		if _, err := io.Copy(io.Discard, tr); err != nil {
			return u.stats, fmt.Errorf("unpack into %s: entry %q: %w", dir, name, cutShort(err, "this entry"))
		}
		entryEnd := roundUp(tail.read)
		hdr, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) {
			// Returned with the header under GODEBUG=tarinsecurepath=0;
			// cleanName judges names itself, the same way either way.
			err = nil
		}
		if err == io.EOF {
			u.stats.Ended = tail.endMarker(entryEnd)
			break
		}
		if err != nil {
			return u.stats, fmt.Errorf("unpack into %s: read tar entry %d: %w", dir, u.stats.Entries+1, cutShort(err, "its header"))
		}
		u.stats.Entries++
		name = hdr.Name
		if err := u.unpackEntry(hdr, tr); err != nil {
			return u.stats, fmt.Errorf("unpack into %s: entry %q: %w", dir, hdr.Name, cutShort(err, "this entry"))
		}
	}
	if err := u.setDirTimes(); err != nil {
		return u.stats, fmt.Errorf("unpack into %s: %w", dir, err)
	}
	// What follows the marker belongs to the stream too: GNU tar pads an
	// archive with zeros to a record of 10 KiB, and a gzip stream ends
	// with a checksum, which its reader checks only when it gets there.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return u.stats, fmt.Errorf("unpack into %s: read after the last entry: %w", dir, cutShort(err, "the stream's end"))
	}
	return u.stats, nil
}

// cutShort says what an unexpected EOF means: the stream stopped inside
// where (an entry, a header).
func cutShort(err error, where string) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: it ends inside %s: %w", ErrCutShort, where, err)
	}
	return err
}

// blockSize is the unit of a tar archive: every header fills one block,
// and the contents of every entry fill whole blocks, padded with zeros.
const blockSize = 512

// roundUp returns n rounded up to a whole number of blocks.
func roundUp(n int64) int64 {
	return (n + blockSize - 1) / blockSize * blockSize
}

// tailReader passes on what the tar reader reads, and keeps the count of
// those bytes and a copy of the last two blocks of them.
//
// Go's tar reader reports the end of the archive (io.EOF) after the two
// blocks of zeros that mark it, after one, and also where the stream
// simply stops at an entry's boundary, as an archive cut short does. What
// it read after the last entry tells them apart.
type tailReader struct {
	r    io.Reader
	read int64
	last [2 * blockSize]byte // the last bytes read, the latest at the end
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	t.read += int64(n)
	if n >= len(t.last) {
		copy(t.last[:], p[n-len(t.last):n])
	} else {
		copy(t.last[:], t.last[n:]) // copy moves overlapping bytes correctly
		copy(t.last[len(t.last)-n:], p[:n])
	}
	return n, err
}

// endMarker reports whether the tar reader, having reported the end of the
// archive, read the end-of-archive marker after the last entry, whose
// blocks end at entryEnd: one or two blocks of zeros, and nothing else.
// GNU tar accepts one block, with a warning ("A lone zero block").
func (t *tailReader) endMarker(entryEnd int64) bool {
	after := t.read - entryEnd
	if after != blockSize && after != 2*blockSize {
		return false // nothing (cut short), or a header with no entry after it
	}
	for _, b := range t.last[len(t.last)-int(after):] {
		if b != 0 {
			return false
		}
	}
	return true
}

// checkEmpty returns an error unless dir is an existing, empty directory, so
// that no file already there can be mistaken for part of the layer.
func checkEmpty(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("unpack into %s: %w", dir, err)
	}
	defer d.Close()
	names, err := d.Readdirnames(1)
	if err != nil && err != io.EOF {
		return fmt.Errorf("unpack into %s: %w", dir, err)
	}
	if len(names) > 0 {
		return fmt.Errorf("unpack into %s: directory is not empty", dir)
	}
	return nil
}

// unpacker holds the state of one Unpack.
type unpacker struct {
	root  string
	stats Stats
	// parents remembers where resolve found each parent directory, by
	// name: resolving costs an lstat for every component, and a layer's
	// entries come grouped by directory. Removing anything may change the
	// answers, so create forgets them all when it removes.
	parents map[string]string
	// dirTimes holds the header of each directory unpacked, by path: its
	// times are set at the end, because every entry written into a
	// directory changes its modification time.
	dirTimes map[string]*tar.Header
	// buf carries file contents from the tar stream to the files, 1 MiB at
	// a time: a few large reads and writes cost less than many small ones.
	buf []byte
}

// unpackEntry writes one tar entry.
func (u *unpacker) unpackEntry(hdr *tar.Header, r io.Reader) error {
	name, err := cleanName(hdr.Name)
	if err != nil {
		return err
	}
	if inWhiteoutMetaDir(name) {
		return nil
	}
	if isWhiteout(name) {
		return u.whiteout(hdr, name)
	}
	switch hdr.Typeflag {
	case tar.TypeXGlobalHeader:
		return nil // PAX defaults for the entries after it; archive/tar applies them
	case tar.TypeReg, tar.TypeDir, tar.TypeSymlink, tar.TypeLink, tar.TypeChar, tar.TypeBlock, tar.TypeFifo:
	default:
		return fmt.Errorf("unsupported entry type %q", hdr.Typeflag)
	}
	if err := checkXattrs(hdr); err != nil {
		return err
	}
	path, err := u.resolve(name)
	if err != nil {
		return err
	}
	if path == u.root && hdr.Typeflag != tar.TypeDir {
		return errors.New("only a directory can stand for the layer's root")
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		return u.writeFile(path, hdr, r)
	case tar.TypeDir:
		return u.makeDir(path, hdr)
	case tar.TypeSymlink:
		return u.makeSymlink(path, hdr)
	case tar.TypeLink:
		return u.makeHardLink(path, hdr)
	default:
		return u.makeNode(path, hdr)
	}
}

// cleanName turns an entry's name into a clean path relative to the layer's
// root. A leading "/" is dropped, as tar -x does, so "/etc/passwd" means
// <root>/etc/passwd.
func cleanName(name string) (string, error) {
	clean := filepath.Clean(strings.TrimLeft(name, "/"))
	// Path traversal ("Zip Slip"): a name such as "../../etc/cron.d/x"
	// would write outside the layer.
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", fmt.Errorf("name %q climbs out of the layer with \"..\"", name)
	}
	return clean, nil
}

// resolve returns where name goes under the root, creating missing parent
// directories as tar does.
//
// The parent directory is resolved with securejoin, which follows symlinks
// as if the root were "/": a symlink "evil -> /" unpacked earlier makes
// "evil/etc/passwd" mean <root>/etc/passwd, never the host's (Docker's
// CVE-2014-6407 and CVE-2014-9356, containerd's CVE-2021-32760). The last
// component is not resolved at all, so that an entry replaces a symlink of
// its name instead of writing through it.
func (u *unpacker) resolve(name string) (string, error) {
	if name == "." {
		return u.root, nil
	}
	dir := filepath.Dir(name)
	parent, ok := u.parents[dir]
	if !ok {
		var err error
		parent, err = securejoin.SecureJoin(u.root, dir)
		if err != nil {
			return "", fmt.Errorf("resolve parent directory: %w", err)
		}
		// securejoin leaves no symlink in parent, so MkdirAll cannot be
		// led outside the root.
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return "", fmt.Errorf("create parent directory: %w", err)
		}
		u.parents[dir] = parent
	}
	return filepath.Join(parent, filepath.Base(name)), nil
}

// create calls makeIt, which creates path and fails with EEXIST if anything
// is there, as open with O_EXCL, mkdir, mknod, symlink and link all do.
// Anything there was left by an earlier entry of the same name, and the
// later entry wins, as with tar: create removes it and calls makeIt once
// more. The entry is always made afresh, so a planted symlink cannot
// redirect a write and a planted hard link cannot make it change another
// file. A directory that meets a directory is kept, contents and all.
func (u *unpacker) create(path string, isDir bool, makeIt func() error) error {
	err := makeIt()
	if !errors.Is(err, fs.ErrExist) {
		return err
	}
	info, err := os.Lstat(path)
	if err != nil {
		return fmt.Errorf("inspect existing %s: %w", path, err)
	}
	if isDir && info.IsDir() {
		return nil
	}
	if path == u.root {
		return errors.New("cannot replace the layer's root")
	}
	// RemoveAll does not follow symlinks: it removes the link, not its target.
	if err := os.RemoveAll(path); err != nil {
		return fmt.Errorf("replace existing %s: %w", path, err)
	}
	for dir := range u.dirTimes {
		if dir == path || strings.HasPrefix(dir, path+"/") {
			delete(u.dirTimes, dir) // gone, and its name may be reused by a file
		}
	}
	// What was removed may have been a directory on the way to a parent,
	// now free to become a symlink that leads elsewhere.
	clear(u.parents)
	return makeIt()
}

// writeFile creates the regular file path with the entry's contents.
func (u *unpacker) writeFile(path string, hdr *tar.Header, r io.Reader) error {
	// O_EXCL fails if anything is at path, even a symlink to nowhere: it
	// never writes through one. O_NOFOLLOW says the same to the reader. The
	// file starts with mode 0600 so that no one can open it before its
	// mode is set.
	var f *os.File
	err := u.create(path, false, func() (err error) {
		f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, 0o600)
		return err
	})
	if err != nil {
		return fmt.Errorf("create file: %w", err)
	}
	// Hiding f's ReadFrom makes CopyBuffer use buf; ReadFrom would
	// allocate a small buffer of its own for every file.
	n, err := io.CopyBuffer(struct{ io.Writer }{f}, r, u.buf)
	u.stats.Files++
	u.stats.Bytes += n
	if err != nil {
		f.Close()
		return fmt.Errorf("write file %s: %w", path, err)
	}
	// chown clears the setuid and setgid bits, so it comes before chmod.
	if err := f.Chown(hdr.Uid, hdr.Gid); err != nil {
		f.Close()
		return fmt.Errorf("set owner of %s: %w", path, err)
	}
	if err := f.Chmod(hdr.FileInfo().Mode()); err != nil {
		f.Close()
		return fmt.Errorf("set mode of %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write file %s: %w", path, err)
	}
	return finishEntry(path, hdr)
}

// makeDir creates the directory path, or updates it if it exists. Its times
// are set by setDirTimes.
func (u *unpacker) makeDir(path string, hdr *tar.Header) error {
	err := u.create(path, true, func() error { return os.Mkdir(path, 0o700) })
	if err != nil {
		return fmt.Errorf("create directory: %w", err)
	}
	if err := setOwnerAndMode(path, hdr); err != nil {
		return err
	}
	if err := setXattrs(path, hdr); err != nil {
		return err
	}
	u.dirTimes[path] = hdr
	return nil
}

// makeSymlink creates the symlink path. Its target is stored as written and
// never followed here; it means something only inside the container.
func (u *unpacker) makeSymlink(path string, hdr *tar.Header) error {
	err := u.create(path, false, func() error { return os.Symlink(hdr.Linkname, path) })
	if err != nil {
		return fmt.Errorf("create symlink: %w", err)
	}
	// A symlink has no mode of its own on Linux: only its owner is set.
	if err := os.Lchown(path, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("set owner of %s: %w", path, err)
	}
	return finishEntry(path, hdr)
}

// makeHardLink links path to the entry's target, an earlier entry of the
// layer. The target's owner, mode and times are the target's own.
func (u *unpacker) makeHardLink(path string, hdr *tar.Header) error {
	target, err := u.linkTarget(hdr.Linkname)
	if err != nil {
		return err
	}
	if err := u.create(path, false, func() error { return os.Link(target, path) }); err != nil {
		return fmt.Errorf("create hard link: %w", err)
	}
	return nil
}

// linkTarget finds a hard link's target inside the root, resolving it like
// an entry's name. Linking a host file into the layer (say /etc/shadow, to be
// read from the container, or to be written through and change the host's:
// CVE-2014-6407) is refused, and so is a link to a directory, which would
// make a loop.
func (u *unpacker) linkTarget(linkname string) (string, error) {
	name, err := cleanName(linkname)
	if err != nil {
		return "", fmt.Errorf("hard link target: %w", err)
	}
	target := u.root
	if name != "." {
		parent, err := securejoin.SecureJoin(u.root, filepath.Dir(name))
		if err != nil {
			return "", fmt.Errorf("resolve hard link target %q: %w", linkname, err)
		}
		target = filepath.Join(parent, filepath.Base(name))
	}
	// link(2) does not follow a symlink target: it links the symlink itself.
	info, err := os.Lstat(target)
	if err != nil {
		return "", fmt.Errorf("hard link target %q is not in the layer: %w", linkname, err)
	}
	if info.IsDir() {
		return "", fmt.Errorf("hard link target %q is a directory", linkname)
	}
	return target, nil
}

// makeNode creates a character device, a block device or a FIFO.
func (u *unpacker) makeNode(path string, hdr *tar.Header) error {
	err := u.create(path, false, func() error {
		dev := int(unix.Mkdev(uint32(hdr.Devmajor), uint32(hdr.Devminor)))
		switch hdr.Typeflag {
		case tar.TypeChar:
			return unix.Mknod(path, unix.S_IFCHR|0o600, dev)
		case tar.TypeBlock:
			return unix.Mknod(path, unix.S_IFBLK|0o600, dev)
		default:
			return unix.Mkfifo(path, 0o600)
		}
	})
	if err != nil {
		return fmt.Errorf("create %s: %w", typeName(hdr.Typeflag), err)
	}
	if err := setOwnerAndMode(path, hdr); err != nil {
		return err
	}
	return finishEntry(path, hdr)
}

// typeName names a node's entry type for errors.
func typeName(typeflag byte) string {
	switch typeflag {
	case tar.TypeChar:
		return "character device"
	case tar.TypeBlock:
		return "block device"
	default:
		return "FIFO"
	}
}

// setOwnerAndMode sets the owner, then the mode, of path, which Unpack has
// just created or checked and so is not a symlink.
func setOwnerAndMode(path string, hdr *tar.Header) error {
	if err := os.Lchown(path, hdr.Uid, hdr.Gid); err != nil {
		return fmt.Errorf("set owner of %s: %w", path, err)
	}
	// After chown, which clears the setuid and setgid bits.
	if err := os.Chmod(path, hdr.FileInfo().Mode()); err != nil {
		return fmt.Errorf("set mode of %s: %w", path, err)
	}
	return nil
}

// finishEntry sets what comes last for an entry that is not a directory: its
// extended attributes (after chown, which clears security.capability), then
// its times.
func finishEntry(path string, hdr *tar.Header) error {
	if err := setXattrs(path, hdr); err != nil {
		return err
	}
	return setTimes(path, hdr)
}

// setDirTimes sets the times of every directory unpacked, once nothing more
// is written into them.
func (u *unpacker) setDirTimes() error {
	for path, hdr := range u.dirTimes {
		if err := setTimes(path, hdr); err != nil {
			return err
		}
	}
	return nil
}

// setTimes sets the access and modification times of path, not of what a
// symlink there points to.
func setTimes(path string, hdr *tar.Header) error {
	atime := hdr.AccessTime
	if atime.IsZero() {
		atime = hdr.ModTime
	}
	ts := make([]unix.Timespec, 2)
	var err error
	if ts[0], err = unix.TimeToTimespec(atime); err != nil {
		return fmt.Errorf("set times of %s: %w", path, err)
	}
	if ts[1], err = unix.TimeToTimespec(hdr.ModTime); err != nil {
		return fmt.Errorf("set times of %s: %w", path, err)
	}
	if err := unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return fmt.Errorf("set times of %s: %w", path, err)
	}
	return nil
}

// xattrPrefix begins the PAX records that carry extended attributes.
const xattrPrefix = "SCHILY.xattr."

// checkXattrs refuses extended attributes that belong to overlay. A layer
// that carried them could forge overlay's own metadata (redirects, metacopy
// origins, opaque marks) and make overlay show files other than those the
// layer names; only Unpack's whiteout conversion writes them.
func checkXattrs(hdr *tar.Header) error {
	for key := range hdr.PAXRecords {
		if attr, ok := strings.CutPrefix(key, xattrPrefix); ok && strings.HasPrefix(attr, "trusted.overlay.") {
			return fmt.Errorf("extended attribute %s belongs to overlay and may not come from a layer", attr)
		}
	}
	return nil
}

// setXattrs sets the extended attributes carried in the entry's PAX records.
// A file system that does not support them (EOPNOTSUPP) loses them, as it
// would under tar -x.
func setXattrs(path string, hdr *tar.Header) error {
	for key, value := range hdr.PAXRecords {
		attr, ok := strings.CutPrefix(key, xattrPrefix)
		if !ok || !userXattrAllowed(attr, hdr.Typeflag) {
			continue
		}
		err := unix.Lsetxattr(path, attr, []byte(value), 0)
		if err != nil && !errors.Is(err, unix.EOPNOTSUPP) {
			return fmt.Errorf("set extended attribute %s of %s: %w", attr, path, err)
		}
	}
	return nil
}

// userXattrAllowed reports whether Linux lets a file of this entry type
// carry the extended attribute attr. Linux keeps user.* attributes for
// regular files and directories only (xattr(7)): on a symlink, a device or
// a FIFO, setting one fails with EPERM ("operation not permitted"), even
// for root. A layer written by hand, or by a tool that did not check, may
// still carry one. Unpack leaves it out, as GNU tar does (with a warning;
// bsdtar fails): no file on Linux can hold it, so the layer comes out as
// it would on any Linux, and refusing the whole image for it would help
// no one.
func userXattrAllowed(attr string, typeflag byte) bool {
	return !strings.HasPrefix(attr, "user.") || typeflag == tar.TypeReg || typeflag == tar.TypeDir
}
