/*
 * Reads SECRET through io_uring: the kernel performs IORING_OP_OPENAT and IORING_OP_READ on
 * the ring's behalf, so no open syscall reaches seccomp. The sandbox must fail
 * io_uring_setup with ENOSYS. The program uses raw syscalls and mmap'ed rings, no liburing.
 *
 * Reports: io_uring_setup, io_uring_openat, io_uring_read, content.
 */
#include "escape.h"

#include <linux/io_uring.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/mman.h>

struct ring {
    int fd;
    _Atomic unsigned *sq_tail;
    unsigned *sq_mask;
    unsigned *sq_array;
    struct io_uring_sqe *sqes;
    _Atomic unsigned *cq_head;
    _Atomic unsigned *cq_tail;
    unsigned *cq_mask;
    struct io_uring_cqe *cqes;
};

static void *map_ring(int fd, size_t length, off_t offset)
{
    void *memory = mmap(NULL, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd,
                        offset);
    if (memory == MAP_FAILED) {
        perror("mmap io_uring");
        exit(2);
    }
    return memory;
}

/* Maps the submission queue, completion queue and SQE array of a ring set up with PARAMS. */
static void map_queues(struct ring *ring, const struct io_uring_params *params)
{
    size_t sq_length = params->sq_off.array + params->sq_entries * sizeof(unsigned);
    size_t cq_length = params->cq_off.cqes + params->cq_entries * sizeof(struct io_uring_cqe);
    int single_mmap = (params->features & IORING_FEAT_SINGLE_MMAP) != 0;
    if (single_mmap && cq_length > sq_length)
        sq_length = cq_length;

    char *sq = map_ring(ring->fd, sq_length, IORING_OFF_SQ_RING);
    char *cq = single_mmap ? sq : map_ring(ring->fd, cq_length, IORING_OFF_CQ_RING);
    ring->sqes = map_ring(ring->fd, params->sq_entries * sizeof(struct io_uring_sqe),
                          IORING_OFF_SQES);

    ring->sq_tail = (_Atomic unsigned *)(void *)(sq + params->sq_off.tail);
    ring->sq_mask = (unsigned *)(void *)(sq + params->sq_off.ring_mask);
    ring->sq_array = (unsigned *)(void *)(sq + params->sq_off.array);
    ring->cq_head = (_Atomic unsigned *)(void *)(cq + params->cq_off.head);
    ring->cq_tail = (_Atomic unsigned *)(void *)(cq + params->cq_off.tail);
    ring->cq_mask = (unsigned *)(void *)(cq + params->cq_off.ring_mask);
    ring->cqes = (struct io_uring_cqe *)(void *)(cq + params->cq_off.cqes);
}

/* Submits SQE, waits for its completion and returns the completion's result (-errno). */
static int submit_and_wait(struct ring *ring, const struct io_uring_sqe *sqe)
{
    unsigned tail = atomic_load_explicit(ring->sq_tail, memory_order_relaxed);
    unsigned index = tail & *ring->sq_mask;
    ring->sqes[index] = *sqe;
    ring->sq_array[index] = index;
    atomic_store_explicit(ring->sq_tail, tail + 1, memory_order_release);

    if (syscall(SYS_io_uring_enter, ring->fd, 1, 1, IORING_ENTER_GETEVENTS, NULL, 0) < 0) {
        perror("io_uring_enter");
        exit(2);
    }
    unsigned head = atomic_load_explicit(ring->cq_head, memory_order_relaxed);
    if (head == atomic_load_explicit(ring->cq_tail, memory_order_acquire)) {
        fprintf(stderr, "io_uring_enter returned without a completion\n");
        exit(2);
    }
    int result = ring->cqes[head & *ring->cq_mask].res;
    atomic_store_explicit(ring->cq_head, head + 1, memory_order_release);
    return result;
}

int main(int argc, char **argv)
{
    check_usage(argc, argv, 1, "SECRET");
    start_report();

    struct io_uring_params params = {0};
    struct ring ring = {0};
    ring.fd = (int)syscall(SYS_io_uring_setup, 4, &params);
    report_call("io_uring_setup", ring.fd);
    if (ring.fd < 0)
        return 0;
    map_queues(&ring, &params);

    struct io_uring_sqe open_sqe = {
        .opcode = IORING_OP_OPENAT,
        .fd = AT_FDCWD,
        .addr = (uint64_t)(uintptr_t)argv[1],
        .open_flags = O_RDONLY | O_CLOEXEC,
    };
    int fd = submit_and_wait(&ring, &open_sqe);
    report_error("io_uring_openat", fd < 0 ? -fd : 0);
    if (fd < 0)
        return 0;

    char bytes[256];
    struct io_uring_sqe read_sqe = {
        .opcode = IORING_OP_READ,
        .fd = fd,
        .addr = (uint64_t)(uintptr_t)bytes,
        .len = sizeof bytes,
    };
    int length = submit_and_wait(&ring, &read_sqe);
    report_error("io_uring_read", length < 0 ? -length : 0);
    if (length >= 0)
        printf("content=%.*s\n", length, bytes);
    return 0;
}
