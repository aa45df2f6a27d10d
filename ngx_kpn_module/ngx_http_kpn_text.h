
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * Text helpers, without HTTP and without JSON: UTF-8, the sanitiser of
 * messages, quoting input in a message, hex, UUIDs, base64, upper case.
 * The fuzz harnesses link it as it is.
 */


#ifndef _NGX_HTTP_KPN_TEXT_H_INCLUDED_
#define _NGX_HTTP_KPN_TEXT_H_INCLUDED_


#include <ngx_config.h>
#include <ngx_core.h>


/*
 * The UTF-8 character at p (n > 0 bytes, p[0] >= 0x80) into *c: its length
 * 2..4; 0 when it is not one (a stray continuation byte, an overlong form,
 * a surrogate, past U+10FFFF); -1 when it is cut short by the end.
 */
ngx_int_t ngx_http_kpn_utf8_decode(u_char *p, size_t n, uint32_t *c);

/*
 * Makes text safe for a JSON string and a log line, in place: control
 * characters, bytes that are not UTF-8, surrogates, C1 controls, U+2028,
 * U+2029, bidirectional controls, zero-width characters and the byte
 * order mark become '?' (one a byte); a character cut at the end is
 * dropped.  Returns the new length.
 * ngx_http_kpn_raise() applies it to every message.
 */
size_t ngx_http_kpn_printable(u_char *p, size_t len);

/*
 * Input to quote in a message: at most max bytes of in, cut at the start
 * of a character; *cut tells whether anything was left out.
 */
void ngx_http_kpn_echo(ngx_str_t *in, size_t max, ngx_str_t *out,
    ngx_uint_t *cut);

/* the most bytes of input a message quotes */
#define NGX_HTTP_KPN_ECHO_MAX  64

/*
 * len hex digits (either case) into len / 2 bytes at dst: NGX_ERROR on an
 * odd len or a character that is not a hex digit
 */
ngx_int_t ngx_http_kpn_hex_decode(u_char *dst, u_char *src, size_t len);

/* 1: len hex digits (either case), 0 otherwise */
ngx_uint_t ngx_http_kpn_is_hex(u_char *p, size_t len);

/* 8-4-4-4-12 hex digits with dashes, either case */
ngx_uint_t ngx_http_kpn_is_uuid(u_char *p, size_t len);

/*
 * base64 (SenML's "vd"): RFC 8428 says base64url without padding, KPN
 * sends standard base64 with padding; both alphabets, padding optional
 */
ngx_uint_t ngx_http_kpn_is_base64(u_char *p, size_t len);

/* copies len bytes, ASCII letters upper case (dst may be src) */
void ngx_http_kpn_upper(u_char *dst, u_char *src, size_t len);


#endif /* _NGX_HTTP_KPN_TEXT_H_INCLUDED_ */
