/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * tcpinfo.bpf.c's readers of kernel objects: socket identity and tuple from struct sock (full,
 * request and TIME_WAIT sockets), and the TCP/IP headers of an skb. Everything goes through
 * CO-RE probe reads, so the same code serves tp_btf arguments and classic-tracepoint pointers.
 * Included only by tcpinfo.bpf.c (after vmlinux.h and the libbpf headers).
 */
#ifndef TCPSCOPE_TCPINFO_READ_BPF_H
#define TCPSCOPE_TCPINFO_READ_BPF_H

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define TS_V6_EXT_MAX 4

static __always_inline int full_sock_state(__u8 state)
{
    return state != TCP_TIME_WAIT && state != TCP_NEW_SYN_RECV;
}

/* The bits of a pointer as a plain number. The verifier forbids OR on a tp_btf argument (a
 * trusted pointer), so the value is copied out of the stack slot that holds it. */
static __always_inline __u64 ptr_bits(const void *p)
{
    __u64 v = 0;

    bpf_probe_read_kernel(&v, sizeof(v), &p);
    return v;
}

/* Identity without bpf_get_socket_cookie (classic hooks, or a pointer that may be NULL or not a
 * full socket): the cookie if one was allocated (lifecycle's tp_btf allocates one for every socket
 * it sees; a TIME_WAIT socket inherits it), else the pointer with the flag for full sockets. */
static __always_inline __u64 sock_id_read(const struct sock *sk)
{
    __u64 cookie;

    if (!sk)
        return 0;
    cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
    if (cookie)
        return cookie;
    return full_sock_state(BPF_CORE_READ(sk, __sk_common.skc_state))
               ? (ptr_bits(sk) | TS_SOCK_ID_PTR_FLAG)
               : 0;
}

/* Local/remote tuple of a socket; works for full, request and TIME_WAIT sockets alike because
 * it reads struct sock_common, except the local port of a full socket: skc_num is cleared once
 * it is unhashed (CLOSE, e.g. an RST sent on close), inet_sport is not (as lifecycle.bpf.c). */
static __always_inline void sock_tuple(const struct sock *sk, __u16 *family, __u16 *sport,
                                       __u16 *dport, __u8 *saddr, __u8 *daddr)
{
    *family = BPF_CORE_READ(sk, __sk_common.skc_family);
    if (full_sock_state(BPF_CORE_READ(sk, __sk_common.skc_state)))
        *sport = bpf_ntohs(BPF_CORE_READ((const struct inet_sock *)sk, inet_sport));
    else
        *sport = BPF_CORE_READ(sk, __sk_common.skc_num);
    *dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
    if (*family == AF_INET6) {
        bpf_probe_read_kernel(saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
        bpf_probe_read_kernel(daddr, 16, &sk->__sk_common.skc_v6_daddr);
    } else {
        bpf_probe_read_kernel(saddr, 4, &sk->__sk_common.skc_rcv_saddr);
        bpf_probe_read_kernel(daddr, 4, &sk->__sk_common.skc_daddr);
    }
}

/* ---- packet headers of an skb (kfree_skb, RST replies) ------------------------------------ */

struct pkt {
    __u32 seq, ack_seq, payload_len;
    __u16 family, sport, dport;
    __u8 flags;
    __u8 saddr[16], daddr[16];
};

/* TCP over IPv4/IPv6 (IPv6: up to TS_V6_EXT_MAX extension headers; never a non-first fragment)
 * from skb->head + network_header. Returns 0 when the skb carries such a TCP header.
 * A BIG TCP super-packet (more than 64 KiB, as loopback sends by default) has 0 in its IP length
 * field: its length is the skb's, from the network header on. */
static __always_inline int parse_skb(const struct sk_buff *skb, struct pkt *p)
{
    unsigned char *head = BPF_CORE_READ(skb, head);
    unsigned char *data = BPF_CORE_READ(skb, data);
    __u32 skb_len = BPF_CORE_READ(skb, len);
    __u16 nh = BPF_CORE_READ(skb, network_header);
    __u16 proto = bpf_ntohs(BPF_CORE_READ(skb, protocol));
    __u8 ip[40], th[20];
    __u32 l4, ihl, iplen, doff, i, from_nh;
    __u8 next;

    if (!head || nh == (__u16)~0U)
        return -1;
    /* Bytes from the network header to the end of the packet (0 if data is past it). */
    from_nh = (__u32)(data - head) + skb_len;
    from_nh = from_nh > nh ? from_nh - nh : 0;
    if (proto == ETH_P_IP) {
        if (bpf_probe_read_kernel(ip, 20, head + nh))
            return -1;
        ihl = (ip[0] & 0x0f) * 4;
        if ((ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP || ihl < 20)
            return -1;
        if (((ip[6] & 0x1f) | ip[7]) != 0)
            return -1; /* non-first fragment: no TCP header */
        p->family = AF_INET;
        __builtin_memcpy(p->saddr, ip + 12, 4);
        __builtin_memcpy(p->daddr, ip + 16, 4);
        iplen = ((__u32)ip[2] << 8 | ip[3]);
        if (iplen == 0)
            iplen = from_nh;
        iplen = iplen > ihl ? iplen - ihl : 0;
        l4 = nh + ihl;
    } else if (proto == ETH_P_IPV6) {
        if (bpf_probe_read_kernel(ip, 40, head + nh))
            return -1;
        if ((ip[0] >> 4) != 6)
            return -1;
        p->family = AF_INET6;
        __builtin_memcpy(p->saddr, ip + 8, 16);
        __builtin_memcpy(p->daddr, ip + 24, 16);
        iplen = ((__u32)ip[4] << 8 | ip[5]);
        if (iplen == 0)
            iplen = from_nh > 40 ? from_nh - 40 : 0;
        l4 = nh + 40;
        next = ip[6];
        /* Up to TS_V6_EXT_MAX extension headers (hop-by-hop, routing, fragment, destination
         * options, AH) before TCP; a non-first fragment has no TCP header. */
        for (i = 0; i < TS_V6_EXT_MAX && next != IPPROTO_TCP; i++) {
            __u8 ext[4];
            __u32 len;

            if (bpf_probe_read_kernel(ext, 4, head + l4))
                return -1;
            if (next == 0 || next == 43 || next == 60)
                len = ((__u32)ext[1] + 1) * 8;
            else if (next == 51)
                len = ((__u32)ext[1] + 2) * 4;
            else if (next == 44 && ((ext[2] << 8 | ext[3]) & 0xfff8) == 0)
                len = 8;
            else
                return -1; /* not TCP, or a non-first fragment */
            next = ext[0];
            l4 += len;
            iplen = iplen > len ? iplen - len : 0;
        }
        if (next != IPPROTO_TCP)
            return -1;
    } else {
        return -1;
    }
    if (bpf_probe_read_kernel(th, 20, head + l4))
        return -1;
    p->sport = (__u16)th[0] << 8 | th[1];
    p->dport = (__u16)th[2] << 8 | th[3];
    p->seq = (__u32)th[4] << 24 | (__u32)th[5] << 16 | (__u32)th[6] << 8 | th[7];
    p->ack_seq = (__u32)th[8] << 24 | (__u32)th[9] << 16 | (__u32)th[10] << 8 | th[11];
    p->flags = th[13];
    doff = (th[12] >> 4) * 4;
    p->payload_len = iplen > doff ? iplen - doff : 0;
    return 0;
}

#endif /* TCPSCOPE_TCPINFO_READ_BPF_H */
