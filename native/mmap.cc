// Memory-mapped files: a safetensors checkpoint mapped once and handed to JS as an external ArrayBuffer,
// so weights usable as stored are never copied and processes on one host share the page cache. The map
// is private and writable: a stray write copies one page instead of crashing, and never reaches the file.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cerrno>
#include <cstring>
#include <string>
#include "kernels.h"

namespace layerlab {

void* map_file(const char* path, int64_t* size, std::string* error) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) { *error = std::strerror(errno); return nullptr; }
  struct stat st;
  if (fstat(fd, &st) != 0) { *error = std::strerror(errno); close(fd); return nullptr; }
  *size = st.st_size;
  if (st.st_size == 0) { close(fd); return nullptr; }
  void* p = mmap(nullptr, size_t(st.st_size), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int saved = errno;
  close(fd);  // the mapping keeps the file alive
  if (p == MAP_FAILED) { *error = std::strerror(saved); return nullptr; }
  return p;
}

void unmap_file(void* p, int64_t size) { if (p) munmap(p, size_t(size)); }

// Drops the pages wholly inside [p, p+bytes) from this process (they stay in the page cache and fault
// back in if read again): after a weight has been packed, its stored bytes no longer count in our RSS.
void release_pages(void* p, int64_t bytes) {
  const uintptr_t page = uintptr_t(sysconf(_SC_PAGESIZE));
  uintptr_t begin = (uintptr_t(p) + page - 1) & ~(page - 1), end = (uintptr_t(p) + uintptr_t(bytes)) & ~(page - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace layerlab
