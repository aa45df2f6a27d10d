
/*
 * Copyright (C) ngx_kpn_module developers
 *
 * ngx_http_kpn_module: the uplink half.  KPN Things HTTPS destination
 * messages are authenticated, validated and rewritten into Withthegrid
 * requests in the precontent phase, before proxy_pass sends them.
 */


#include "ngx_http_kpn_uplink_module.h"
#include "ngx_http_kpn_conf.h"
#include "ngx_http_kpn_uplink.h"
#include "ngx_http_kpn_auth.h"


static ngx_int_t ngx_http_kpn_preconfiguration(ngx_conf_t *cf);
static ngx_int_t ngx_http_kpn_init(ngx_conf_t *cf);
static void *ngx_http_kpn_create_loc_conf(ngx_conf_t *cf);
static char *ngx_http_kpn_merge_loc_conf(ngx_conf_t *cf, void *parent,
    void *child);
static char *ngx_http_kpn_uplink(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_secret_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_secret(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_device_type(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_device_type_header(ngx_conf_t *cf,
    ngx_command_t *cmd, void *conf);
static char *ngx_http_kpn_auth_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_header_name(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_str_t *name, ngx_str_t *lowcase);
static char *ngx_http_kpn_auth_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_auth_value(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_complex_values(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **values);
static char *ngx_http_kpn_pass_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);
static char *ngx_http_kpn_wtg_token_file(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf);


static char *ngx_http_kpn_max_records(ngx_conf_t *cf, void *post,
    void *data);


static ngx_conf_enum_t  ngx_http_kpn_formats[] = {
    { ngx_string("envelope"), NGX_HTTP_KPN_FORMAT_ENVELOPE },
    { ngx_string("senml"), NGX_HTTP_KPN_FORMAT_SENML },
    { ngx_null_string, 0 }
};


/* the levels of refused input, as limit_req_log_level has them */
static ngx_conf_enum_t  ngx_http_kpn_log_levels[] = {
    { ngx_string("info"), NGX_LOG_INFO },
    { ngx_string("notice"), NGX_LOG_NOTICE },
    { ngx_string("warn"), NGX_LOG_WARN },
    { ngx_string("error"), NGX_LOG_ERR },
    { ngx_null_string, 0 }
};


static ngx_conf_enum_t  ngx_http_kpn_auth_kinds[] = {
    { ngx_string("off"), NGX_HTTP_KPN_DEST_AUTH_OFF },
    { ngx_string("basic"), NGX_HTTP_KPN_DEST_AUTH_BASIC },
    { ngx_string("bearer"), NGX_HTTP_KPN_DEST_AUTH_BEARER },
    { ngx_string("api_key"), NGX_HTTP_KPN_DEST_AUTH_API_KEY },
    { ngx_string("header"), NGX_HTTP_KPN_DEST_AUTH_HEADER },
    { ngx_null_string, 0 }
};


static ngx_conf_post_t  ngx_http_kpn_max_records_post = {
    ngx_http_kpn_max_records
};


static ngx_command_t  ngx_http_kpn_commands[] = {

    { ngx_string("kpn_uplink"),
      NGX_HTTP_LOC_CONF|NGX_CONF_FLAG,
      ngx_http_kpn_uplink,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_loc_conf_t, uplink),
      NULL },

    { ngx_string("kpn_uplink_secret_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_secret_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_uplink_secret"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_secret,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_device_type"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE2,
      ngx_http_kpn_device_type,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_device_type_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_device_type_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_uplink_format"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_loc_conf_t, format),
      &ngx_http_kpn_formats },

    { ngx_string("kpn_reject_log_level"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_loc_conf_t, reject_log_level),
      &ngx_http_kpn_log_levels },

    { ngx_string("kpn_uplink_max_records"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_num_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_loc_conf_t, max_records),
      &ngx_http_kpn_max_records_post },

    { ngx_string("kpn_uplink_auth"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_conf_set_enum_slot,
      NGX_HTTP_LOC_CONF_OFFSET,
      offsetof(ngx_http_kpn_loc_conf_t, auth),
      &ngx_http_kpn_auth_kinds },

    { ngx_string("kpn_uplink_auth_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_auth_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_uplink_auth_value"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_auth_value,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_uplink_auth_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_auth_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_uplink_pass_header"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_pass_header,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

    { ngx_string("kpn_wtg_token_file"),
      NGX_HTTP_MAIN_CONF|NGX_HTTP_SRV_CONF|NGX_HTTP_LOC_CONF|NGX_CONF_TAKE1,
      ngx_http_kpn_wtg_token_file,
      NGX_HTTP_LOC_CONF_OFFSET,
      0,
      NULL },

      ngx_null_command
};


static ngx_http_module_t  ngx_http_kpn_module_ctx = {
    ngx_http_kpn_preconfiguration,         /* preconfiguration */
    ngx_http_kpn_init,                     /* postconfiguration */

    NULL,                                  /* create main configuration */
    NULL,                                  /* init main configuration */

    NULL,                                  /* create server configuration */
    NULL,                                  /* merge server configuration */

    ngx_http_kpn_create_loc_conf,          /* create location configuration */
    ngx_http_kpn_merge_loc_conf            /* merge location configuration */
};


ngx_module_t  ngx_http_kpn_module = {
    NGX_MODULE_V1,
    &ngx_http_kpn_module_ctx,              /* module context */
    ngx_http_kpn_commands,                 /* module directives */
    NGX_HTTP_MODULE,                       /* module type */
    NULL,                                  /* init master */
    NULL,                                  /* init module */
    NULL,                                  /* init process */
    NULL,                                  /* init thread */
    NULL,                                  /* exit thread */
    NULL,                                  /* exit process */
    NULL,                                  /* exit master */
    NGX_MODULE_V1_PADDING
};


static ngx_int_t
ngx_http_kpn_preconfiguration(ngx_conf_t *cf)
{
    return ngx_http_kpn_add_variables(cf);
}


static void *
ngx_http_kpn_create_loc_conf(ngx_conf_t *cf)
{
    ngx_http_kpn_loc_conf_t  *conf;

    conf = ngx_pcalloc(cf->pool, sizeof(ngx_http_kpn_loc_conf_t));
    if (conf == NULL) {
        return NULL;
    }

    /*
     * set by ngx_pcalloc():
     *
     *     conf->device_type_header = { 0, NULL };
     *     conf->auth_header = { 0, NULL };
     *     conf->wtg_token = { 0, NULL };
     *     conf->uplink_file = { 0, NULL };
     *     conf->uplink_line = 0;
     */

    conf->uplink = NGX_CONF_UNSET;
    conf->secrets = NGX_CONF_UNSET_PTR;
    conf->secret = NGX_CONF_UNSET_PTR;
    conf->device_types = NGX_CONF_UNSET_PTR;
    conf->format = NGX_CONF_UNSET_UINT;
    conf->max_records = NGX_CONF_UNSET_UINT;
    conf->reject_log_level = NGX_CONF_UNSET_UINT;
    conf->auth = NGX_CONF_UNSET_UINT;
    conf->auth_digests = NGX_CONF_UNSET_PTR;
    conf->auth_no_colon = NGX_CONF_UNSET_UINT;
    conf->auth_values = NGX_CONF_UNSET_PTR;
    conf->pass_headers = NGX_CONF_UNSET_PTR;

    return conf;
}


static char *
ngx_http_kpn_merge_loc_conf(ngx_conf_t *cf, void *parent, void *child)
{
    ngx_http_kpn_loc_conf_t *prev = parent;
    ngx_http_kpn_loc_conf_t *conf = child;

    ngx_http_core_loc_conf_t  *clcf;

    ngx_conf_merge_value(conf->uplink, prev->uplink, 0);
    ngx_conf_merge_ptr_value(conf->secrets, prev->secrets, NULL);
    ngx_conf_merge_ptr_value(conf->secret, prev->secret, NULL);
    ngx_conf_merge_ptr_value(conf->device_types, prev->device_types, NULL);
    ngx_conf_merge_str_value(conf->device_type_header,
                             prev->device_type_header, "device-type");
    ngx_conf_merge_uint_value(conf->format, prev->format,
                              NGX_HTTP_KPN_FORMAT_ENVELOPE);
    ngx_conf_merge_uint_value(conf->max_records, prev->max_records,
                              NGX_HTTP_KPN_MAX_RECORDS);
    ngx_conf_merge_uint_value(conf->reject_log_level, prev->reject_log_level,
                              NGX_LOG_ERR);
    ngx_conf_merge_uint_value(conf->auth, prev->auth,
                              NGX_HTTP_KPN_DEST_AUTH_OFF);

    if (conf->auth_digests == NGX_CONF_UNSET_PTR) {
        conf->auth_digests = prev->auth_digests;
        conf->auth_no_colon = prev->auth_no_colon;
    }

    ngx_conf_merge_ptr_value(conf->auth_digests, NULL, NULL);
    ngx_conf_merge_uint_value(conf->auth_no_colon, 0, 0);
    ngx_conf_merge_ptr_value(conf->auth_values, prev->auth_values, NULL);

    /* KPN does not publish the name of its API-key header: X-API-Key */
    ngx_conf_merge_str_value(conf->auth_header, prev->auth_header,
                             "x-api-key");
    ngx_conf_merge_ptr_value(conf->pass_headers, prev->pass_headers, NULL);
    ngx_conf_merge_str_value(conf->wtg_token, prev->wtg_token, "");

    if (conf->uplink_file.data == NULL) {
        conf->uplink_file = prev->uplink_file;
        conf->uplink_line = prev->uplink_line;
    }

    if (!conf->uplink) {
        return NGX_CONF_OK;
    }

    /* the errors name the kpn_uplink line, not the end of http {} */

    if (conf->secrets == NULL && conf->secret == NULL) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_uplink\" requires \"kpn_uplink_secret_file\" "
                      "or \"kpn_uplink_secret\" in %V:%ui",
                      &conf->uplink_file, conf->uplink_line);
        return NGX_CONF_ERROR;
    }

    if (conf->auth != NGX_HTTP_KPN_DEST_AUTH_OFF
        && conf->auth_digests == NULL && conf->auth_values == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_uplink_auth\" requires \"kpn_uplink_auth_file\" "
                      "or \"kpn_uplink_auth_value\" in %V:%ui",
                      &conf->uplink_file, conf->uplink_line);
        return NGX_CONF_ERROR;
    }

    if (conf->auth == NGX_HTTP_KPN_DEST_AUTH_BASIC
        && conf->auth_no_colon)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_uplink_auth basic\" takes lines of "
                      "\"user:password\" in \"kpn_uplink_auth_file\", "
                      "%ui line(s) have no ':', in %V:%ui",
                      conf->auth_no_colon, &conf->uplink_file,
                      conf->uplink_line);
        return NGX_CONF_ERROR;
    }

    if (conf->format == NGX_HTTP_KPN_FORMAT_ENVELOPE
        && conf->device_types == NULL)
    {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_uplink\" with \"kpn_uplink_format envelope\" "
                      "requires at least one \"kpn_device_type\" in %V:%ui",
                      &conf->uplink_file, conf->uplink_line);
        return NGX_CONF_ERROR;
    }

    /*
     * the module rewrites the request for a content handler to send on:
     * without one nginx would answer its own 404 to every uplink ("if"
     * blocks take the handler of their location)
     */

    clcf = ngx_http_conf_get_module_loc_conf(cf, ngx_http_core_module);

    if (clcf->handler == NULL && !clcf->noname) {
        ngx_log_error(NGX_LOG_EMERG, cf->log, 0,
                      "\"kpn_uplink\" requires \"proxy_pass\" (or another "
                      "content handler) in its location \"%V\" in %V:%ui",
                      &clcf->name, &conf->uplink_file, conf->uplink_line);
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


/* kpn_uplink on | off, with where it is for the merge's errors */

static char *
ngx_http_kpn_uplink(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    char  *rv;

    rv = ngx_conf_set_flag_slot(cf, cmd, conf);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    klcf->uplink_file.len = cf->conf_file->file.name.len;
    klcf->uplink_file.data = ngx_pstrdup(cf->pool, &cf->conf_file->file.name);
    if (klcf->uplink_file.data == NULL) {
        return NGX_CONF_ERROR;
    }

    klcf->uplink_line = cf->conf_file->line;

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_secret_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    ngx_str_t  *value;

    value = cf->args->elts;

    if (klcf->secrets == NGX_CONF_UNSET_PTR) {
        klcf->secrets = NULL;
    }

    return ngx_http_kpn_conf_read_lines(cf, &cmd->name, &value[1],
                                        NGX_HTTP_KPN_CONF_KPN_SECRET,
                                        &klcf->secrets);
}


/*
 * kpn_uplink_secret: repeatable, any of the values may match (rotation
 * with a per-destination map: one directive for the current map, one for
 * the next).  The list of a level is inherited only when it has none.
 */

static char *
ngx_http_kpn_secret(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    return ngx_http_kpn_complex_values(cf, cmd, &klcf->secret);
}


/*
 * kpn_uplink_auth_value: a value of the destination's credential, with
 * variables (a map on Things-Plug-UUID: per destination); repeatable,
 * any may match, an empty one matches nothing
 */

static char *
ngx_http_kpn_auth_value(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    return ngx_http_kpn_complex_values(cf, cmd, &klcf->auth_values);
}


/* the directive's value compiled onto *values (created when unset) */

static char *
ngx_http_kpn_complex_values(ngx_conf_t *cf, ngx_command_t *cmd,
    ngx_array_t **values)
{
    ngx_str_t                         *value;
    ngx_http_complex_value_t          *cv;
    ngx_http_compile_complex_value_t   ccv;

    value = cf->args->elts;

    /* a value with variables may be empty at run time, and matches nothing */

    if (value[1].len == 0) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "empty secret in \"%V\"", &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (*values == NGX_CONF_UNSET_PTR) {
        *values = ngx_array_create(cf->pool, 2,
                                   sizeof(ngx_http_complex_value_t));
        if (*values == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    cv = ngx_array_push(*values);
    if (cv == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_memzero(&ccv, sizeof(ngx_http_compile_complex_value_t));

    ccv.cf = cf;
    ccv.value = &value[1];
    ccv.complex_value = cv;

    if (ngx_http_compile_complex_value(&ccv) != NGX_OK) {
        return NGX_CONF_ERROR;
    }

    return NGX_CONF_OK;
}


static ngx_uint_t
ngx_http_kpn_is_token(ngx_str_t *s)
{
    size_t  i;

    if (s->len == 0) {
        return 0;
    }

    for (i = 0; i < s->len; i++) {
        if (s->data[i] <= ' ' || s->data[i] >= 0x7f) {
            return 0;
        }
    }

    return 1;
}


static char *
ngx_http_kpn_device_type(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    size_t                       i;
    ngx_str_t                   *value;
    ngx_uint_t                   n;
    ngx_http_kpn_device_type_t  *dt;

    value = cf->args->elts;

    if (!ngx_http_kpn_is_token(&value[1])) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid device type name \"%V\" in \"%V\"",
                           &value[1], &cmd->name);
        return NGX_CONF_ERROR;
    }

    for (i = 0; i < value[2].len; i++) {
        if (!((value[2].data[i] >= 'a' && value[2].data[i] <= 'z')
              || (value[2].data[i] >= '0' && value[2].data[i] <= '9')))
        {
            break;
        }
    }

    if (value[2].len == 0 || value[2].len > 64 || i != value[2].len) {
        ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                           "invalid Withthegrid hash id \"%V\" in \"%V\", "
                           "expected lower-case letters and digits",
                           &value[2], &cmd->name);
        return NGX_CONF_ERROR;
    }

    if (klcf->device_types == NGX_CONF_UNSET_PTR) {
        klcf->device_types = ngx_array_create(cf->pool, 4,
                                        sizeof(ngx_http_kpn_device_type_t));
        if (klcf->device_types == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    dt = klcf->device_types->elts;

    for (n = 0; n < klcf->device_types->nelts; n++) {
        if (dt[n].name.len == value[1].len
            && ngx_strncmp(dt[n].name.data, value[1].data, value[1].len) == 0)
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "duplicate device type \"%V\" in \"%V\"",
                               &value[1], &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    dt = ngx_array_push(klcf->device_types);
    if (dt == NULL) {
        return NGX_CONF_ERROR;
    }

    dt->name = value[1];
    dt->hash_id = value[2];

    return NGX_CONF_OK;
}


static char *
ngx_http_kpn_device_type_header(ngx_conf_t *cf, ngx_command_t *cmd,
    void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    ngx_str_t  *value;

    if (klcf->device_type_header.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_http_kpn_header_name(cf, cmd, &value[1],
                                    &klcf->device_type_header);
}


/* a header name of letters, digits, '-' and '_', into lowcase */

static char *
ngx_http_kpn_header_name(ngx_conf_t *cf, ngx_command_t *cmd, ngx_str_t *name,
    ngx_str_t *lowcase)
{
    u_char  c;
    size_t  i;

    if (name->len == 0) {
        return "invalid value";
    }

    for (i = 0; i < name->len; i++) {
        c = name->data[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9') || c == '-' || c == '_'))
        {
            ngx_conf_log_error(NGX_LOG_EMERG, cf, 0,
                               "invalid header name \"%V\" in \"%V\"",
                               name, &cmd->name);
            return NGX_CONF_ERROR;
        }
    }

    lowcase->len = name->len;
    lowcase->data = ngx_pnalloc(cf->pool, name->len);
    if (lowcase->data == NULL) {
        return NGX_CONF_ERROR;
    }

    ngx_strlow(lowcase->data, name->data, name->len);

    return NGX_CONF_OK;
}


/*
 * kpn_uplink_auth_file: the destination's credentials, one a line (the
 * one reader's format), kept as their SHA-256 digests only; the files of
 * a level add up.
 */

static char *
ngx_http_kpn_auth_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    char         *rv;
    u_char       *d;
    ngx_str_t    *value, *line;
    ngx_uint_t    i;
    ngx_array_t  *lines;

    value = cf->args->elts;
    lines = NULL;

    rv = ngx_http_kpn_conf_read_lines(cf, &cmd->name, &value[1], 0, &lines);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    if (klcf->auth_digests == NGX_CONF_UNSET_PTR) {
        klcf->auth_digests = ngx_array_create(cf->pool, lines->nelts,
                                              NGX_HTTP_KPN_DIGEST_LEN);
        if (klcf->auth_digests == NULL) {
            return NGX_CONF_ERROR;
        }

        klcf->auth_no_colon = 0;
    }

    line = lines->elts;
    rv = NGX_CONF_OK;

    for (i = 0; i < lines->nelts; i++) {

        if (ngx_strlchr(line[i].data, line[i].data + line[i].len, ':')
            == NULL)
        {
            klcf->auth_no_colon++;
        }

        d = ngx_array_push(klcf->auth_digests);

        if (d == NULL || ngx_http_kpn_auth_digest(&line[i], d) != NGX_OK) {
            rv = NGX_CONF_ERROR;
        }

        /* only the digests are kept */
        ngx_explicit_memzero(line[i].data, line[i].len);
    }

    return rv;
}


static char *
ngx_http_kpn_auth_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    ngx_str_t  *value;

    if (klcf->auth_header.data) {
        return "is duplicate";
    }

    value = cf->args->elts;

    return ngx_http_kpn_header_name(cf, cmd, &value[1], &klcf->auth_header);
}


static char *
ngx_http_kpn_pass_header(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    ngx_str_t  *value, *name;

    value = cf->args->elts;

    if (klcf->pass_headers == NGX_CONF_UNSET_PTR) {
        klcf->pass_headers = ngx_array_create(cf->pool, 2, sizeof(ngx_str_t));
        if (klcf->pass_headers == NULL) {
            return NGX_CONF_ERROR;
        }
    }

    name = ngx_array_push(klcf->pass_headers);
    if (name == NULL) {
        return NGX_CONF_ERROR;
    }

    return ngx_http_kpn_header_name(cf, cmd, &value[1], name);
}


/*
 * kpn_wtg_token_file: Withthegrid's webhook token, exactly one entry in
 * the one reader's format, for $kpn_wtg_token (the reader refuses control
 * characters, so the value cannot split a header)
 */

static char *
ngx_http_kpn_wtg_token_file(ngx_conf_t *cf, ngx_command_t *cmd, void *conf)
{
    ngx_http_kpn_loc_conf_t *klcf = conf;

    char         *rv;
    ngx_str_t    *value, *line;
    ngx_array_t  *lines;

    if (klcf->wtg_token.data) {
        return "is duplicate";
    }

    value = cf->args->elts;
    lines = NULL;

    rv = ngx_http_kpn_conf_read_lines(cf, &cmd->name, &value[1],
                                      NGX_HTTP_KPN_CONF_ONE, &lines);
    if (rv != NGX_CONF_OK) {
        return rv;
    }

    line = lines->elts;
    klcf->wtg_token = line[0];

    return NGX_CONF_OK;
}


static ngx_int_t
ngx_http_kpn_init(ngx_conf_t *cf)
{
    ngx_http_handler_pt        *h;
    ngx_http_core_main_conf_t  *cmcf;

    cmcf = ngx_http_conf_get_module_main_conf(cf, ngx_http_core_module);

    h = ngx_array_push(&cmcf->phases[NGX_HTTP_PRECONTENT_PHASE].handlers);
    if (h == NULL) {
        return NGX_ERROR;
    }

    *h = ngx_http_kpn_uplink_handler;

    return ngx_http_kpn_uplink_filter_init(cf);
}


static char *
ngx_http_kpn_max_records(ngx_conf_t *cf, void *post, void *data)
{
    ngx_uint_t  *np = data;

    if (*np == 0) {
        return "must be at least 1";
    }

    return NGX_CONF_OK;
}


ngx_uint_t
ngx_http_kpn_reject_log_level(ngx_http_request_t *r)
{
    ngx_http_kpn_loc_conf_t  *lcf;

    lcf = ngx_http_get_module_loc_conf(r, ngx_http_kpn_module);

    return lcf->reject_log_level;
}
