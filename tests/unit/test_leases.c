// SPDX-License-Identifier: MIT
/* deps: io/leases.c io/atomic.c core/ipam.c core/cidr.c base/err.c base/mem.c base/util.c base/buf.c */
/*
 * test_leases.c: the lease store in a private mkdtemp directory under /tmp (removed at the
 * end): reserve/EEXIST/release, listing and owner release, the last-reserved hints, stale
 * temporary files, garbage under lease names, allocation failures at every point, 20
 * processes allocating at once, and atomic_write.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "tap.h"
#include "base/err.h"
#include "base/mem.h"
#include "core/ipam.h"
#include "io/atomic.h"
#include "io/leases.h"

static char top[64];

static struct ipaddr A(const char *s)
{
	struct ipaddr a = { 0 };

	if (ipaddr_parse(s, strlen(s), &a))
		diag("bad test address %s", s);
	return a;
}

static const char *path_in(const char *dir, const char *name)
{
	static char p[2][512];
	static int k;

	k ^= 1;
	snprintf(p[k], sizeof(p[k]), "%s/%s", dir, name);
	return p[k];
}

static void put_file(const char *dir, const char *name, const void *data, size_t n)
{
	int fd = open(path_in(dir, name), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		diag("cannot write %s", name);
	if (fd >= 0)
		close(fd);
}

/* Whole small file as a string; "" when missing. */
static const char *get_file(const char *dir, const char *name)
{
	static char buf[1024];
	int fd = open(path_in(dir, name), O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);

	buf[n > 0 ? n : 0] = '\0';
	if (fd >= 0)
		close(fd);
	return buf;
}

static bool exists(const char *dir, const char *name)
{
	struct stat st;

	return lstat(path_in(dir, name), &st) == 0;
}

/* Entries other than . .. lock and names starting with skip_prefix (.tmp.* files count). */
static int count_entries(const char *dir, const char *skip_prefix)
{
	struct dirent *d;
	DIR *dp = opendir(dir);
	int n = 0;

	while (dp && (d = readdir(dp)))
		if (strcmp(d->d_name, ".") && strcmp(d->d_name, "..") && strcmp(d->d_name, "lock") &&
		    strncmp(d->d_name, skip_prefix, strlen(skip_prefix)))
			n++;
	if (dp)
		closedir(dp);
	return n;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static struct leases *open_ok(const char *dir, const char *what)
{
	struct leases *l = NULL;
	struct ebuf eb = { { 0 } };
	int r = leases_open(dir, &l, &eb);

	is_int(r, 0, what);
	if (r)
		diag("%s", eb.msg);
	return l;
}

static void test_basic(const char *dir)
{
	struct leases *l = open_ok(dir, "open creates the directory with parents");
	struct ipaddr a = A("10.0.0.2"), b = A("fd00::2"), *used;
	struct stat st;
	size_t n;

	if (!l)
		return;
	ok(stat(dir, &st) == 0 && (st.st_mode & 077) == 0, "directory mode 0700");
	ok(exists(dir, "lock"), "lock file exists");
	is_int(leases_reserve(l, &a, "ctr1", "eth0"), 0, "reserve 10.0.0.2");
	is_str(get_file(dir, "10.0.0.2"), "ctr1\neth0\n", "lease content");
	ok(stat(path_in(dir, "10.0.0.2"), &st) == 0 && (st.st_mode & 0777) == 0600, "mode 0600");
	is_int(leases_reserve(l, &a, "ctr9", "eth0"), -EEXIST, "second reserve: -EEXIST");
	is_int(leases_reserve(l, &b, "ctr1", "eth1"), 0, "reserve fd00::2");
	is_str(get_file(dir, "fd00::2"), "ctr1\neth1\n", "v6 lease file named by text");
	is_int(count_entries(dir, "last."), 2, "no temporary files left");
	is_int(leases_used(l, AF_INET, &used, &n), 0, "used v4");
	ok(n == 1 && ipaddr_eq(&used[0], &a), "used v4 holds 10.0.0.2");
	mem_free(used);
	is_int(leases_used(l, AF_INET6, &used, &n), 0, "used v6");
	ok(n == 1 && ipaddr_eq(&used[0], &b), "used v6 holds fd00::2");
	mem_free(used);
	is_int(leases_used(l, 0, &used, &n), -EINVAL, "used: bad family");
	is_int(leases_release(l, &a), 0, "release");
	ok(!exists(dir, "10.0.0.2"), "file gone");
	is_int(leases_release(l, &a), 0, "release again: ENOENT is success");
	is_int(leases_used(l, AF_INET, &used, &n), 0, "used after release");
	ok(n == 0 && used == NULL, "nothing used");
	is_int(leases_reserve(l, &a, "ctr2", "eth0"), 0, "address reusable after release");
	is_int(leases_release(l, &a), 0, "release");
	is_int(leases_release(l, &b), 0, "release v6");
	leases_close(l);
	leases_close(NULL);
}

/* leases_open_for: the record is prepared unlocked and linked per address (one inode). */
static void test_prepared(const char *dir)
{
	struct leases *l = NULL;
	struct ipaddr a = A("10.0.0.40"), b = A("fd00::40"), c = A("10.0.0.41");
	struct stat sa, sb;

	is_int(leases_open_for(dir, "ctrp", "eth0", &l, NULL), 0, "open_for");
	if (!l)
		return;
	is_int(leases_reserve(l, &a, "ctrp", "eth0"), 0, "prepared reserve v4");
	is_int(leases_reserve(l, &b, "ctrp", "eth0"), 0, "prepared reserve v6");
	is_str(get_file(dir, "10.0.0.40"), "ctrp\neth0\n", "prepared record content");
	ok(stat(path_in(dir, "10.0.0.40"), &sa) == 0 && stat(path_in(dir, "fd00::40"), &sb) == 0 &&
		   sa.st_ino == sb.st_ino && sa.st_nlink == 2 && (sa.st_mode & 0777) == 0600,
	   "both addresses name one record, mode 0600");
	is_int(leases_reserve(l, &a, "ctrp", "eth0"), -EEXIST, "prepared reserve: -EEXIST");
	/* another owner through the same handle falls back to a named temporary file */
	is_int(leases_reserve(l, &c, "ctrq", "eth0"), 0, "other owner reserve");
	is_str(get_file(dir, "10.0.0.41"), "ctrq\neth0\n", "other owner content");
	is_int(count_entries(dir, "last."), 3, "three leases and no temporary file");
	leases_close(l);
	is_int(leases_open_for(dir, "ctrp", "eth0", &l, NULL), 0, "open_for again");
	if (!l)
		return;
	is_int(leases_release_owner(l, "ctrp", "eth0"), 2, "release the prepared owner");
	is_int(leases_release(l, &c), 0, "release the other");
	leases_close(l);
	/* an unused prepared record leaves nothing: it never had a name */
	is_int(leases_open_for(dir, "ctrz", "eth0", &l, NULL), 0, "open_for, no reserve");
	leases_close(l);
	is_int(count_entries(dir, "last."), 0, "an unused record leaves no file");
	is_int(leases_open_for(dir, "bad/id", "eth0", &l, NULL), 0, "open_for with a bad id opens");
	if (l)
		is_int(leases_reserve(l, &a, "bad/id", "eth0"), -EINVAL, "and refuses it at reserve");
	leases_close(l);
}

static void test_validation(const char *dir)
{
	static const char *const bad_ids[] = { "", "-x", ".x", "_x", "a b", "a/b", "a\nb",
					       "ctr:1", "ctr\\1", "é" };
	static const char *const bad_ifs[] = { "", ".", "..", "a/b", "e:0", "e 0", "eth\n",
					       "0123456789abcdef", "e\x7f" };
	struct leases *l = open_ok(dir, "open for validation");
	struct ipaddr a = A("10.0.0.9"), bad = { .family = 3 };
	char id[300];
	size_t i;

	if (!l)
		return;
	for (i = 0; i < ARRAY_SIZE(bad_ids); i++)
		is_int(leases_reserve(l, &a, bad_ids[i], "eth0"), -EINVAL, bad_ids[i]);
	for (i = 0; i < ARRAY_SIZE(bad_ifs); i++)
		is_int(leases_reserve(l, &a, "ctr", bad_ifs[i]), -EINVAL, bad_ifs[i]);
	is_int(leases_reserve(l, &a, NULL, "eth0"), -EINVAL, "NULL id");
	memset(id, 'a', 256);
	id[256] = '\0';
	is_int(leases_reserve(l, &a, id, "eth0"), -EINVAL, "256-byte id");
	id[255] = '\0';
	is_int(leases_reserve(l, &a, "ctr", "0123456789abcde"), 0, "15-byte ifname");
	is_int(leases_release(l, &a), 0, "release");
	is_int(leases_reserve(l, &a, id, "eth0"), 0, "255-byte id");
	is_int(leases_reserve(l, &bad, "ctr", "eth0"), -EINVAL, "bad family");
	is_int(count_entries(dir, "last."), 1, "failed reserves leave nothing behind");
	is_int(leases_release(l, &a), 0, "release");
	leases_close(l);
}

static void test_owner(const char *dir)
{
	struct leases *l = open_ok(dir, "open for owner release");
	struct ipaddr a3 = A("10.0.0.3"), a4 = A("10.0.0.4"), a5 = A("10.0.0.5");
	struct ipaddr a6 = A("fd00::6");
	struct lease *v;
	size_t n;

	if (!l)
		return;
	ok(!leases_reserve(l, &a3, "ctr2", "eth0") && !leases_reserve(l, &a4, "ctr2", "eth1") &&
		   !leases_reserve(l, &a5, "ctr3", "eth0") && !leases_reserve(l, &a6, "ctr2", "eth0"),
	   "four reserves");
	is_int(leases_list(l, &v, &n), 0, "list");
	is_int(n, 4, "four leases");
	if (n == 4) {
		ok(ipaddr_eq(&v[0].addr, &a3) && !strcmp(v[0].id, "ctr2") &&
			   !strcmp(v[0].ifname, "eth0"), "first lease, sorted");
		ok(ipaddr_eq(&v[3].addr, &a6) && !strcmp(v[3].ifname, "eth0"), "v6 lease last");
	}
	mem_free(v);
	is_int(leases_release_owner(l, "ctr2", "eth0"), 2, "owner (ctr2, eth0): v4 and v6");
	ok(!exists(dir, "10.0.0.3") && !exists(dir, "fd00::6") && exists(dir, "10.0.0.4"),
	   "only ctr2/eth0 files gone");
	is_int(leases_release_owner(l, "ctr2", NULL), 1, "owner ctr2, any ifname");
	is_int(leases_release_owner(l, "nobody", NULL), 0, "unknown owner: 0");
	is_int(leases_release_owner(l, "ctr", NULL), 0, "no prefix match");
	is_int(leases_release_owner(l, "ctr3", "eth0"), 1, "ctr3");
	is_int(leases_list(l, &v, &n), 0, "list empty");
	ok(n == 0 && !v, "nothing listed");
	leases_close(l);
}

static void test_last(const char *dir)
{
	struct leases *l = open_ok(dir, "open for hints");
	struct ipaddr a = A("10.0.0.7"), b = A("fd00::7"), out;
	char buf[64];
	ssize_t n;

	if (!l)
		return;
	is_int(leases_last(l, AF_INET, &out), -ENOENT, "no hint yet");
	is_int(leases_set_last(l, &a), 0, "set last v4");
	n = readlink(path_in(dir, "last.4"), buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	is_str(buf, "10.0.0.7", "last.4 symlink target");
	ok(leases_last(l, AF_INET, &out) == 0 && ipaddr_eq(&out, &a), "read back v4");
	is_int(leases_set_last(l, &b), 0, "set last v6");
	ok(leases_last(l, AF_INET6, &out) == 0 && ipaddr_eq(&out, &b), "read back v6");
	a = A("10.0.0.8");
	is_int(leases_set_last(l, &a), 0, "replace v4 hint");
	ok(leases_last(l, AF_INET, &out) == 0 && ipaddr_eq(&out, &a), "replaced");
	is_int(leases_last(l, 0, &out), -EINVAL, "bad family");
	unlink(path_in(dir, "last.4"));
	ok(symlink("junk", path_in(dir, "last.4")) == 0, "plant junk hint");
	is_int(leases_last(l, AF_INET, &out), -ENOENT, "junk hint ignored");
	unlink(path_in(dir, "last.4"));
	ok(symlink("fd00::1", path_in(dir, "last.4")) == 0, "plant wrong-family hint");
	is_int(leases_last(l, AF_INET, &out), -ENOENT, "wrong-family hint ignored");
	unlink(path_in(dir, "last.4"));
	put_file(dir, "last.4", "10.0.0.1", 8);
	is_int(leases_last(l, AF_INET, &out), -ENOENT, "regular file hint ignored");
	unlink(path_in(dir, "last.4"));
	memset(buf, '1', sizeof(buf) - 1);
	buf[sizeof(buf) - 1] = '\0';
	ok(symlink(buf, path_in(dir, "last.4")) == 0, "plant long hint");
	is_int(leases_last(l, AF_INET, &out), -ENOENT, "long hint ignored");
	is_int(leases_set_last(l, &a), 0, "hint replaced over junk");
	is_int(count_entries(dir, "zzz"), 2, "only last.4 and last.6");
	leases_close(l);
	unlink(path_in(dir, "last.4"));
	unlink(path_in(dir, "last.6"));
}

static void test_stale(const char *dir)
{
	struct leases *l;
	struct ipaddr *used;
	size_t n;

	put_file(dir, ".tmp.99999.10.0.0.9", "ctr\neth0\n", 9);
	put_file(dir, ".tmp.1.last.4", "", 0);
	put_file(dir, ".tmpx", "", 0);
	l = open_ok(dir, "open with stale temporary files");
	if (!l)
		return;
	ok(!exists(dir, ".tmp.99999.10.0.0.9") && !exists(dir, ".tmp.1.last.4"), "stale removed");
	ok(exists(dir, ".tmpx"), "other dot files kept");
	is_int(leases_used(l, AF_INET, &used, &n), 0, "used");
	is_int(n, 0, "a temporary file is not a lease");
	mem_free(used);
	leases_close(l);
	unlink(path_in(dir, ".tmpx"));
}

static void test_garbage(const char *dir)
{
	static const char *const not_leases[] = { "foo", "10.0.0.300", "010.0.0.1", "FD00::9",
						  "fd00:0::9", "10.0.0.9 ", "::ffff:10.0.0.1x" };
	static const char big[70000];
	struct leases *l;
	struct ipaddr *used, a;
	struct lease *v;
	size_t n, i, bad = 0, good = 0;
	char *longid = malloc(300);

	for (i = 0; i < ARRAY_SIZE(not_leases); i++)
		put_file(dir, not_leases[i], "ctr\neth0\n", 9);
	put_file(dir, "10.0.0.20", "hello", 5);
	put_file(dir, "10.0.0.21", big, sizeof(big));
	put_file(dir, "10.0.0.22", "ctr\neth0", 8);
	put_file(dir, "10.0.0.23", "ctr\neth0\nextra\n", 15);
	put_file(dir, "10.0.0.24", "", 0);
	mkdir(path_in(dir, "10.0.0.25"), 0700);
	symlink("/etc/passwd", path_in(dir, "10.0.0.26"));
	mkfifo(path_in(dir, "10.0.0.27"), 0600);
	put_file(dir, "10.0.0.28", "-bad\neth0\n", 10);
	put_file(dir, "10.0.0.29", "ctr\n\n", 5);
	put_file(dir, "10.0.0.30", "ctr\0\neth0\n", 10);
	put_file(dir, "10.0.0.31", "ctr\r\neth0\n", 10);
	memset(longid, 'a', 299);
	memcpy(longid + 290, "\neth0\n", 6);
	put_file(dir, "10.0.0.32", longid, 296);
	put_file(dir, "10.0.0.40", "ctr\neth0\n", 9);
	free(longid);
	l = open_ok(dir, "open among garbage");
	if (!l)
		return;
	is_int(leases_used(l, AF_INET, &used, &n), 0, "used among garbage");
	is_int(n, 14, "every canonical address name counts as used");
	mem_free(used);
	is_int(leases_list(l, &v, &n), 0, "list among garbage");
	for (i = 0; i < n; i++) {
		if (v[i].id[0])
			good++;
		else
			bad++;
	}
	is_int(good, 1, "one well-formed lease");
	is_int(bad, 13, "thirteen malformed, id \"\"");
	mem_free(v);
	is_int(leases_release_owner(l, "ctr", NULL), 1, "owner release takes only the good one");
	ok(exists(dir, "10.0.0.20") && exists(dir, "10.0.0.31"), "malformed files untouched");
	a = A("10.0.0.20");
	is_int(leases_reserve(l, &a, "ctr", "eth0"), -EEXIST, "malformed lease still reserved");
	leases_close(l);
	for (i = 0; i < ARRAY_SIZE(not_leases); i++)
		unlink(path_in(dir, not_leases[i]));
	rmdir(path_in(dir, "10.0.0.25"));
	for (i = 20; i <= 32; i++) {
		char name[32];

		snprintf(name, sizeof(name), "10.0.0.%zu", i);
		unlink(path_in(dir, name));
	}
}

/* One ADD and DEL as the plugin does it; every allocation failure must come back as -ENOMEM. */
static int add_del_once(const char *dir)
{
	struct ipam_range r = { 0 };
	struct cidr c = { 0 };
	struct leases *l = NULL;
	struct ipaddr *used = NULL, last, pick;
	struct lease *v = NULL;
	size_t n;
	int rc;

	rc = cidr_parse("10.7.0.0/24", 11, &c);
	if (!rc)
		rc = ipam_range_init(&r, &c, NULL);
	if (!rc)
		rc = leases_open(dir, &l, NULL);
	if (!rc)
		rc = leases_used(l, AF_INET, &used, &n);
	if (!rc)
		rc = ipam_pick(&r, leases_last(l, AF_INET, &last) ? NULL : &last, used, n, &pick);
	if (!rc)
		rc = leases_reserve(l, &pick, "fault", "eth0");
	if (!rc)
		rc = leases_set_last(l, &pick);
	if (!rc)
		rc = leases_list(l, &v, &n);
	if (l && leases_release_owner(l, "fault", NULL) < 0 && !rc)
		rc = -EIO;
	mem_free(v);
	mem_free(used);
	leases_close(l);
	return rc;
}

static void test_faults(const char *dir)
{
	unsigned long nth, calls;
	int rc, bad = 0, runs = 0;
	char name[32];
	int i;

	/* enough leases that the address cache grows more than once */
	for (i = 2; i < 150; i++) {
		snprintf(name, sizeof(name), "10.7.0.%d", i);
		put_file(dir, name, "seed\neth0\n", 10);
	}
	for (nth = 1;; nth++) {
		fault_reset(nth);
		rc = add_del_once(dir);
		calls = fault_reset(0);
		runs++;
		if (rc != 0 && rc != -ENOMEM)
			bad++;
		if (calls < nth)
			break;
	}
	is_int(bad, 0, "every allocation failure gives -ENOMEM");
	ok(runs > 3, "fault loop ran");
	diag("%d runs, one per allocation", runs);
	is_int(add_del_once(dir), 0, "clean run afterwards");
	is_int(count_entries(dir, "last."), 148, "no lease leaked by failed runs");
	for (i = 2; i < 150; i++) {
		snprintf(name, sizeof(name), "10.7.0.%d", i);
		unlink(path_in(dir, name));
	}
	unlink(path_in(dir, "last.4"));
}

static int child_add(const char *dir, int i)
{
	struct ipam_range r;
	struct cidr c;
	struct leases *l;
	struct ipaddr *used = NULL, last, pick;
	char id[16];
	size_t n;
	int rc;

	snprintf(id, sizeof(id), "pod%d", i);
	if (cidr_parse("10.9.0.0/24", 11, &c) || ipam_range_init(&r, &c, NULL))
		return 2;
	if (leases_open(dir, &l, NULL))
		return 3;
	rc = leases_used(l, AF_INET, &used, &n);
	if (!rc)
		rc = ipam_pick(&r, leases_last(l, AF_INET, &last) ? NULL : &last, used, n, &pick);
	if (!rc)
		rc = leases_reserve(l, &pick, id, "eth0");
	if (!rc)
		rc = leases_set_last(l, &pick);
	mem_free(used);
	leases_close(l);
	return rc ? 4 : 0;
}

static void test_concurrent(const char *dir)
{
	enum { KIDS = 20 };
	pid_t pids[KIDS];
	int i, st, okay = 0, seen[KIDS] = { 0 }, dup = 0;
	struct leases *l;
	struct lease *v;
	struct ipaddr last;
	size_t n;

	for (i = 0; i < KIDS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(child_add(dir, i));
	}
	for (i = 0; i < KIDS; i++)
		if (pids[i] > 0 && waitpid(pids[i], &st, 0) == pids[i] && WIFEXITED(st) &&
		    WEXITSTATUS(st) == 0)
			okay++;
	is_int(okay, KIDS, "20 concurrent allocations succeeded");
	is_int(count_entries(dir, "last."), KIDS, "exactly 20 lease files");
	l = open_ok(dir, "open after the race");
	if (!l)
		return;
	is_int(leases_list(l, &v, &n), 0, "list");
	is_int(n, KIDS, "20 leases");
	for (i = 0; i < (int)n; i++) {
		int k = atoi(v[i].id + 3);

		if (strncmp(v[i].id, "pod", 3) || k < 0 || k >= KIDS || seen[k]++)
			dup++;
		if (v[i].addr.a[3] != i + 2)
			dup++;
	}
	is_int(dup, 0, "20 distinct owners on .2 to .21");
	ok(leases_last(l, AF_INET, &last) == 0 && last.a[3] == 21, "hint on the last one, .21");
	mem_free(v);
	is_int(count_entries(dir, "10."), 1, "no temporary files left");
	leases_close(l);
}

static void test_atomic(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/conf", top);
	is_int(atomic_write(path, "one\n", 4, 0644), 0, "atomic write");
	is_str(get_file(top, "conf"), "one\n", "content");
	ok(stat(path, &st) == 0 && (st.st_mode & 0600) == 0600, "mode");
	is_int(atomic_write(path, "two", 3, 0644), 0, "atomic replace");
	is_str(get_file(top, "conf"), "two", "replaced");
	is_int(atomic_write(path, "", 0, 0644), 0, "empty write");
	is_str(get_file(top, "conf"), "", "empty");
	snprintf(path, sizeof(path), "%s/missing/conf", top);
	is_int(atomic_write(path, "x", 1, 0644), -ENOENT, "missing directory");
	snprintf(path, sizeof(path), "%s/", top);
	is_int(atomic_write(path, "x", 1, 0644), -EINVAL, "path ending in /");
	is_int(count_entries(top, "zzz"), 2, "no temporary file left (conf and the store)");
	snprintf(path, sizeof(path), "%s/conf", top);
	unlink(path);
}

int main(void)
{
	char dir[128];

	(void)guard_copy;
	(void)guard_free;
	strcpy(top, "/tmp/virgil-leases-XXXXXX");
	if (!mkdtemp(top)) {
		diag("mkdtemp: %s", strerror(errno));
		return 1;
	}
	snprintf(dir, sizeof(dir), "%s/networks/pods", top);
	test_basic(dir);
	test_prepared(dir);
	test_validation(dir);
	test_owner(dir);
	test_last(dir);
	test_stale(dir);
	test_garbage(dir);
	test_faults(dir);
	test_concurrent(dir);
	test_atomic();
	nftw(top, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	ok(access(top, F_OK) != 0, "test directory removed");
	return tap_done();
}
