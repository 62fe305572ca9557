// epoll_create1, epoll_ctl, epoll_wait and struct epoll_event (packed on x86-64: 12 bytes) for Swift.
#include <sys/epoll.h>
