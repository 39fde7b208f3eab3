/* tests/faults/powercut.h: the image builder. From a journal recorded by
 * libiofault.so (journal.h) and a cut point, writes the store directory as
 * a power cut at that point would leave it:
 *
 * - per file, everything up to its last sync before the cut (a write
 *   through an O_DSYNC fd is durable at once);
 * - of the writes made since (still in the page cache when the power
 *   went), none (PC_NONE), a seeded random subset, each write whole or not
 *   at all (PC_RANDOM), or all (PC_ALL, what kill -9 leaves);
 * - the lock files (lock.mdb, connreqd.lock) are left out: what they hold
 *   does not survive a reboot, and connreqd and LMDB make them afresh;
 * - a rename (JR_RENAME) is durable once the directory (the file ".") is
 *   synced after it; of those not yet, none (PC_NONE), the first few
 *   (PC_RANDOM: each rename lands in order, so a seeded prefix) or all
 *   (PC_ALL). Every file a JR_NAME named is in the image (empty if none
 *   of its writes are), under the name it had then.
 *
 * The cut point is an index into the journal's records: records [0, cut)
 * happened. drop (when not (size_t)-1) names one record whose durability
 * is taken away (a synced write stays in the page cache; a sync does not
 * happen): a deliberately wrong image, for the test that proves the
 * checks can fail. */
#ifndef CONNREQ_POWERCUT_H
#define CONNREQ_POWERCUT_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "journal.h"

struct jevent {
	int type, func, file;
	uint64_t off, len;
	const unsigned char *data;	/* the bytes of a write or a name */
	size_t pos;			/* where the record begins */
};

struct journal {
	unsigned char *buf;
	size_t size;
	struct jevent *ev;
	size_t n;
	char names[JOURNAL_MAX_FILES][256];
	int nfiles;
};

enum { PC_NONE, PC_RANDOM, PC_ALL };

/* Reads the journal at path; 0, or -1 when it cannot be read or is cut
 * short. */
__attribute__((unused)) static int
journal_load(struct journal *j, const char *path)
{
	struct journal_rec h;
	size_t at = 0, cap = 0;
	FILE *f = fopen(path, "rb");
	struct stat st;

	memset(j, 0, sizeof *j);
	if (f == NULL || fstat(fileno(f), &st) == -1) {
		if (f != NULL)
			fclose(f);
		return -1;
	}
	j->size = (size_t)st.st_size;
	j->buf = malloc(j->size + 1);
	if (j->buf == NULL || fread(j->buf, 1, j->size, f) != j->size) {
		fclose(f);
		return -1;
	}
	fclose(f);
	while (at + sizeof h <= j->size) {
		struct jevent *e;

		memcpy(&h, j->buf + at, sizeof h);
		if (h.magic != JOURNAL_MAGIC || h.file >= JOURNAL_MAX_FILES)
			return -1;
		if (j->n == cap) {
			cap = cap ? 2 * cap : 4096;
			j->ev = realloc(j->ev, cap * sizeof *j->ev);
			if (j->ev == NULL)
				return -1;
		}
		e = &j->ev[j->n++];
		e->type = h.type;
		e->func = h.func;
		e->file = h.file;
		e->off = h.off;
		e->len = h.len;
		e->pos = at;
		at += sizeof h;
		e->data = j->buf + at;
		if (h.type == JR_NAME || h.type == JR_WRITE ||
		    h.type == JR_WRITE_SYNCED || h.type == JR_RENAME) {
			if (h.len > j->size - at)
				return -1;
			at += h.len;
		}
		if (h.type == JR_NAME) {
			snprintf(j->names[h.file], sizeof j->names[h.file],
			    "%.*s", (int)h.len, (const char *)e->data);
			if (h.file >= j->nfiles)
				j->nfiles = h.file + 1;
		}
	}
	return at == j->size ? 0 : -1;
}

__attribute__((unused)) static void
journal_free(struct journal *j)
{
	free(j->buf);
	free(j->ev);
	memset(j, 0, sizeof *j);
}

/* How many records began before byte offset pos: the records that had
 * happened when the journal was pos bytes long. */
__attribute__((unused)) static size_t
journal_events_before(const struct journal *j, size_t pos)
{
	size_t lo = 0, hi = j->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (j->ev[mid].pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

__attribute__((unused)) static int
journal_is_sync(const struct jevent *e)
{
	return e->type == JR_SYNC || e->type == JR_WRITE_SYNCED;
}

struct pc_file {
	unsigned char *b;
	size_t size, cap;
};

static int
pc_resize(struct pc_file *f, size_t size)
{
	if (size > f->cap) {
		size_t cap = f->cap ? f->cap : 65536;
		unsigned char *nb;

		while (cap < size)
			cap *= 2;
		nb = realloc(f->b, cap);
		if (nb == NULL)
			return -1;
		memset(nb + f->cap, 0, cap - f->cap);
		f->b = nb;
		f->cap = cap;
	}
	if (size < f->size)
		memset(f->b + size, 0, f->size - size);
	f->size = size;
	return 0;
}

/* Applies one record to f. */
static int
pc_apply(struct pc_file *f, const struct jevent *e)
{
	switch (e->type) {
	case JR_WRITE:
	case JR_WRITE_SYNCED:
		if (e->off + e->len > f->size &&
		    pc_resize(f, (size_t)(e->off + e->len)) == -1)
			return -1;
		memcpy(f->b + e->off, e->data, (size_t)e->len);
		return 0;
	case JR_TRUNCATE:
		return pc_resize(f, (size_t)e->len);
	case JR_FALLOCATE:
		if (e->len != 0 && e->off + e->len > f->size)
			return pc_resize(f, (size_t)(e->off + e->len));
		return 0;
	}
	return 0;
}

static uint64_t
pc_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Whether file name is one the image leaves out: the lock files (LMDB's
 * are lock.mdb, or NAME-lock beside a file NAME opened MDB_NOSUBDIR), the
 * directory itself (".") and a file a rename replaced (""). */
static int
pc_lock_file(const char *name)
{
	size_t n = strlen(name);

	return strcmp(name, "lock.mdb") == 0 ||
	    strcmp(name, "connreqd.lock") == 0 ||
	    (n >= 5 && strcmp(name + n - 5, "-lock") == 0) ||
	    strcmp(name, ".") == 0 || n == 0;
}

/* Applies the rename record e to the names. */
static void
pc_rename(char names[][256], int nfiles, const struct jevent *e)
{
	int i;

	for (i = 0; i < nfiles; i++)
		if (i != e->file && strlen(names[i]) == e->len &&
		    memcmp(names[i], e->data, (size_t)e->len) == 0)
			names[i][0] = '\0';
	snprintf(names[e->file], sizeof names[e->file], "%.*s", (int)e->len,
	    (const char *)e->data);
}

/* Reads path whole into f (left empty when there is no such file). */
static int
pc_load(struct pc_file *f, const char *path)
{
	struct stat st;
	size_t k = 0;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd == -1)
		return 0;
	if (fstat(fd, &st) == -1 || pc_resize(f, (size_t)st.st_size) == -1) {
		close(fd);
		return -1;
	}
	while (k < f->size && (n = read(fd, f->b + k, f->size - k)) > 0)
		k += (size_t)n;
	close(fd);
	return k == f->size ? 0 : -1;
}

/* Writes the image of a cut before record `cut` into dir (which must
 * exist and be empty; or hold a copy of base, below). mode: PC_NONE,
 * PC_RANDOM (with seed) or PC_ALL. base (NULL: none) is the directory the
 * journal's process found, synced, when it started: each file starts as
 * base holds it rather than empty (a store made before the journal, such
 * as one migrated at open). Returns the number of unsynced writes kept,
 * or -1 on an error. */
__attribute__((unused)) static long
powercut_image_on(const struct journal *j, size_t cut, int mode,
    uint64_t seed, size_t drop, const char *base, const char *dir)
{
	struct pc_file durable[JOURNAL_MAX_FILES];
	size_t *pend[JOURNAL_MAX_FILES], npend[JOURNAL_MAX_FILES];
	static char dnames[JOURNAL_MAX_FILES][256];
	size_t *pren = calloc(j->n + 1, sizeof *pren), npren = 0, nkeep;
	long kept = 0;
	int fi, rc = 0;
	size_t i, k;

	memset(durable, 0, sizeof durable);
	memset(npend, 0, sizeof npend);
	for (fi = 0; fi < JOURNAL_MAX_FILES; fi++)
		pend[fi] = NULL;
	if (pren == NULL)
		return -1;
	for (fi = 0; base != NULL && fi < j->nfiles && rc == 0; fi++) {
		char path[4096];

		if (pc_lock_file(j->names[fi]))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", base, j->names[fi]) >=
		    (int)sizeof path)
			rc = -1;
		else
			rc = pc_load(&durable[fi], path);
	}
	memcpy(dnames, j->names, sizeof dnames);
	if (cut > j->n)
		cut = j->n;
	for (i = 0; i < cut && rc == 0; i++) {
		const struct jevent *e = &j->ev[i];
		int type = e->type;

		if (type == JR_NAME || type == JR_RANGE_SYNC)
			continue;
		fi = e->file;
		if (type == JR_RENAME) {
			pren[npren++] = i;
			continue;
		}
		if (i == drop && type == JR_SYNC)
			continue;
		if (type == JR_SYNC && strcmp(j->names[fi], ".") == 0) {
			/* The directory: its renames are durable. */
			for (k = 0; k < npren; k++)
				pc_rename(dnames, j->nfiles, &j->ev[pren[k]]);
			npren = 0;
			continue;
		}
		if (type == JR_SYNC) {
			/* Everything written before is durable, in order. */
			for (k = 0; k < npend[fi] && rc == 0; k++)
				rc = pc_apply(&durable[fi], &j->ev[pend[fi][k]]);
			npend[fi] = 0;
			continue;
		}
		if (type == JR_WRITE_SYNCED && i != drop)
			rc = pc_apply(&durable[fi], e);
		/* Kept in order with the unsynced ones: a later sync applies
		 * them all again, each in its place. */
		if ((npend[fi] & 1023) == 0) {
			size_t *np = realloc(pend[fi],
			    (npend[fi] + 1024) * sizeof *np);

			if (np == NULL) {
				rc = -1;
				break;
			}
			pend[fi] = np;
		}
		pend[fi][npend[fi]++] = i;
	}
	nkeep = mode == PC_ALL ? npren : mode == PC_RANDOM ?
	    (size_t)(pc_rand(&seed) % (npren + 1)) : 0;
	for (k = 0; k < nkeep; k++)
		pc_rename(dnames, j->nfiles, &j->ev[pren[k]]);
	free(pren);
	for (fi = 0; fi < j->nfiles && rc == 0; fi++) {
		char path[4096];
		struct pc_file *f = &durable[fi];
		int fd;

		if (pc_lock_file(dnames[fi]))
			continue;
		for (k = 0; k < npend[fi] && rc == 0; k++) {
			const struct jevent *e = &j->ev[pend[fi][k]];
			int keep = mode == PC_ALL ||
			    (e->type == JR_WRITE_SYNCED && pend[fi][k] != drop);

			if (!keep && mode == PC_RANDOM)
				keep = (pc_rand(&seed) & 1) != 0;
			if (keep && !(e->type == JR_WRITE_SYNCED &&
			    pend[fi][k] != drop))
				kept++;
			if (keep)
				rc = pc_apply(f, e);
		}
		if (snprintf(path, sizeof path, "%s/%s", dir, dnames[fi]) >=
		    (int)sizeof path)
			fd = -1;
		else
			fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			    0600);
		if (fd == -1) {
			rc = -1;
			break;
		}
		for (k = 0; k < f->size && rc == 0; ) {
			ssize_t w = write(fd, f->b + k, f->size - k);

			if (w <= 0)
				rc = -1;
			else
				k += (size_t)w;
		}
		if (close(fd) != 0)
			rc = -1;
	}
	for (fi = 0; fi < JOURNAL_MAX_FILES; fi++) {
		free(durable[fi].b);
		free(pend[fi]);
	}
	return rc == 0 ? kept : -1;
}

__attribute__((unused)) static long
powercut_image(const struct journal *j, size_t cut, int mode, uint64_t seed,
    size_t drop, const char *dir)
{
	return powercut_image_on(j, cut, mode, seed, drop, NULL, dir);
}

#endif
