/* common/crc32c.h: CRC-32C (Castagnoli), the checksum of the store's log
 * records (none of the project's libraries exports one). */
#ifndef CONNREQ_CRC32C_H
#define CONNREQ_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* Continues crc over n bytes at p; start with 0. crc32c("123456789") is
 * 0xe3069283. */
uint32_t crc32c(uint32_t crc, const void *p, size_t n);

#endif
