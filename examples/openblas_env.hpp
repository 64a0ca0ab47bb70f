#pragma once
// OpenBLAS's worker threads spin (sched_yield) for 2^28 cycles after each call by default,
// on the cores the deterministic passes want next: adversarial training alternates an SGD
// step (OpenBLAS) with attack passes (exact_gemm) on every batch. OPENBLAS_THREAD_TIMEOUT=4
// puts them to sleep at once: one epoch of PGD-AT on 12,000 MNIST rows took 5.3 s instead of
// 8.4 s on 2 cores, with the same weights bit for bit. OpenBLAS reads the variable when it is
// loaded, before main, so a program re-executes itself with it set.
#include <cstdlib>
#include <fstream>
#include <string>

#include <unistd.h>

namespace examples {

/// First thing in main: unless OPENBLAS_THREAD_TIMEOUT is set (the caller's choice is kept)
/// or an MPI launcher started the process (set it there: mpirun -x OPENBLAS_THREAD_TIMEOUT=4),
/// sets it to 4 and re-executes the program (/proc/self/exe) with the same arguments, same
/// process id.
/// Returns when it did not re-execute (or exec failed: the results are the same, only slower).
inline void quiet_openblas_threads(char** argv)
{
    if (std::getenv("OPENBLAS_THREAD_TIMEOUT") != nullptr) return;
    if (std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr || std::getenv("PMI_RANK") != nullptr) return;
    // the program's own path (exec of /proc/self/exe itself would rename the process "exe")
    char self[4096];
    const ssize_t len = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0 || static_cast<std::size_t>(len) >= sizeof self - 1) return;
    self[len] = '\0';
    if (::setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1) != 0) return;
    ::execv(self, argv);
}

/// The variable as OpenBLAS saw it when the process image started (/proc/self/environ, which
/// setenv does not change; results.json "environment"), or "" when it was unset.
inline std::string openblas_thread_timeout()
{
    std::ifstream in("/proc/self/environ", std::ios::binary);
    const std::string key = "OPENBLAS_THREAD_TIMEOUT=";
    for (std::string entry; std::getline(in, entry, '\0');)
        if (entry.compare(0, key.size(), key) == 0) return entry.substr(key.size());
    return "";
}

}  // namespace examples
