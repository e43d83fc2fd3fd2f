package ScimTest;

# Integration-test harness for ngx_http_scim_module (core Perl only).
#
# Each test file creates one ScimTest object: a private temp directory, a
# redis-server of its own (forked, on a free loopback port, optionally a
# unix socket too) and the real nginx (forked with "daemon off" so that it
# stays our child; master_process on, N workers) with a config written
# from the test's template.  Files can run in parallel (prove -j2).
#
#   use lib 't/lib';
#   use ScimTest;
#   my $t = ScimTest->new(workers => 2);          # skip_all if no nginx,
#                                                  # redis-server or .so
#   $t->write_config($t->standard_conf);           # or a template of yours
#   $t->start_nginx_ok;                           # a test; gives up
#                                                  # on the file if not
#   my $r = $t->post('Users', { schemas => [URN_USER], userName => 'x' });
#   is($r->{status}, 201);
#   ...
#   $t->finish;     # stops nginx (QUIT), asserts error.log has no
#                   # [alert]/[crit]/[emerg], stops redis, done_testing
#
# Template placeholders: %%PORT%% (= %%PORT1%%), %%PORT2%%.., %%REDIS%%
# ("127.0.0.1:port"), %%REDIS_PORT%%, %%REDIS_SOCK%% (unix socket path),
# %%DIR%% (temp dir), %%MODULE%% (absolute .so path), %%TOKEN%%,
# %%TOKEN_FILE%% (a token file holding %%TOKEN%%), %%REPO%% (repository).
#
# The harness wraps the template in: load_module, "user root" when run as
# root, daemon off, master_process on, worker_processes N, pid/error_log
# (info)/access_log/temp paths in the temp dir.
#
# API (methods of $t unless marked as exported functions):
#   new(workers => 2, ports => 1, redis => 1, redis_unix => 0,
#       redis_password => undef, redis_opts => [...], module => 1,
#       timeout => 300)                  checks, temp dir, ports, redis
#   dir port(N) redis_port redis_sock token([new]) token_file module repo
#   write_file(name, content[, mode]) read_file(name) write_tokens(name, @l)
#   sha256_line(token)                   "sha256:<hex>" line
#   standard_conf(tenant, location, extra, server_extra, http_extra)
#   write_config(http_body) full_conf(http_body) nginx_t(http_body)
#                                        -> (ok, output) of nginx -t
#   start_nginx start_nginx_ok stop_nginx reload(wait_old => 1, cmd => 1)
#   worker_pids nginx_pid abort(why) finish
#   error_log log_mark log_since(mark) no_alerts_since(mark, name)
#       ($t->{allow_log} = qr/.../: log lines a test provokes on purpose)
#   start_redis stop_redis(save => 1) redis_signal('STOP'|'CONT'|...)
#   redis_pid redis_cmd([{db, password, timeout}], @cmd) -> reply
#       (list context: (reply, error)) redis_keys(pattern) redis_clients
#       redis_client_count
#   redis_doc(P, type, id) redis_ext_ids(P, type, externalId)
#       redis_members(P, g) redis_groups_of(P, m)
#       redis_nmembers(P, g) redis_ngroups_of(P, m) redis_is_member(P, g, m)
#       redis_has_group(P, m, g)
#       (the Redis data model, layout 3, of the tenant whose keys start
#       with P = "scim:{T}:": a stored document; a group's members, a
#       member's groups as sorted ids; their counts; 1 if m is in g, by
#       members; 1 if g is among m's groups, by memberof)
#   redis_dump(pattern) -> {key => [type, sorted contents]}
#   redis_mentions(P, id) -> the keys, hash fields and zset members of
#       the tenant that hold id ("key" or "key field")
#   redis_monitor(sub { ... }) -> the commands Redis ran (scripts' too)
#       while the sub ran, as MONITOR shows them: [[COMMAND, arg, ...]];
#       with source => 1 each starts with "lua" (a script's) or "client"
#   request(method, path, body, token, headers, host, port, ctype,
#       chunked, keepalive, timeout) -> {status, reason, headers,
#       content, json, elapsed, error}; get del/delete post put patch
#       patch_ops(id, @ops) list(k => v, ...) create_user(body|userName)
#   raw_request(bytes, count => N) connect_nginx(rcvbuf => N)
#       send_bytes(sock, bytes) read_response(sock) build_request(...)
#   parallel(N, sub { my $i = shift; ... }) -> [results]  (forked)
# Exported: URN_* constants, jtrue jfalse is_jtrue is_jfalse is_jbool,
#   is_scim_error(res, status, scimType, name) is_scim_json(res, status)
#   is_list_response(res, total, n) scim_ctype_ok no_html
#   scim_get_path(res, 'emails[type eq "work"].value') uri_escape qs
#   entra_filter_qs unique_name json_encode json_decode patch_body
#   entra_user(%override) ext_schema(urn, name, @attrs) iso8601_ok
#   iso8601_epoch
#
# Redis Cluster (t/lib/ScimCluster.pm): new(cluster => 1), or any file
# run with SCIM_TEST_REDIS=cluster, starts 3 primaries + 3 replicas
# instead of one redis-server: %%REDIS%% is then the seeds ("127.0.0.1:p1
# 127.0.0.1:p2 127.0.0.1:p3"), %%REDIS_PORT%% the first primary's port,
# redis_cmd routes by slot (MOVED/ASK followed; keyless commands go to
# every primary), redis_keys scans every primary, $t->cluster is the
# ScimCluster object (undef otherwise).  A file that needs the single
# redis-server (it stops, pauses or reconfigures it) passes
# new(no_cluster => 'why'): skipped in cluster mode.
#
# Environment: SCIM_NGINX (default /usr/sbin/nginx), SCIM_MODULE (default
# <repo>/build/ngx_http_scim_module.so), SCIM_REDIS_SERVER (default
# redis-server in PATH), SCIM_TEST_REDIS=cluster (see above),
# SCIM_TEST_KEEP=1 keeps the temp dir,
# SCIM_TEST_TIMEOUT (watchdog per file, default 300 s).

use strict;
use warnings;

use Test::More ();
use File::Temp ();
use File::Spec;
use File::Basename qw(dirname);
use Cwd qw(abs_path);
use IO::Socket::INET;
use IO::Socket::UNIX;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Socket qw(SOL_SOCKET SO_REUSEADDR);
use Time::HiRes qw(time sleep);
use JSON::PP ();
use Digest::SHA qw(sha256_hex);
use Exporter 'import';

use constant {
    URN_USER    => 'urn:ietf:params:scim:schemas:core:2.0:User',
    URN_GROUP   => 'urn:ietf:params:scim:schemas:core:2.0:Group',
    URN_ENT     => 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    URN_ERROR   => 'urn:ietf:params:scim:api:messages:2.0:Error',
    URN_LIST    => 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
    URN_PATCH   => 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
    URN_GR      => 'urn:ietf:params:scim:schemas:extension:GlobalRelay:2.0:User',
    URN_ADSCIM_GROUP =>
        'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group',
};

our @EXPORT = qw(
    URN_USER URN_GROUP URN_ENT URN_ERROR URN_LIST URN_PATCH URN_GR
    URN_ADSCIM_GROUP
    jtrue jfalse is_jtrue is_jfalse is_jbool
    is_scim_error is_scim_json is_list_response scim_ctype_ok
    scim_get_path uri_escape qs entra_filter_qs unique_name
    json_encode json_decode patch_body entra_user iso8601_ok
    iso8601_epoch no_html ext_schema
);

our $VERSION = '0.1';

my $JSON = JSON::PP->new->utf8->canonical->allow_nonref;
my $JSON_LAX = JSON::PP->new->utf8->allow_nonref;

our @INSTANCES;           # for the END block
my $REPO = abs_path(dirname(__FILE__) . '/../..');
my $NAME_SEQ = 0;


# ------------------------------------------------------------ JSON helpers

sub jtrue  () { JSON::PP::true }
sub jfalse () { JSON::PP::false }
sub is_jbool  { JSON::PP::is_bool($_[0]) }
sub is_jtrue  { JSON::PP::is_bool($_[0]) && $_[0] ? 1 : 0 }
sub is_jfalse { JSON::PP::is_bool($_[0]) && !$_[0] ? 1 : 0 }

sub json_encode { $JSON->encode($_[0]) }

sub json_decode {
    my $v = eval { $JSON_LAX->decode($_[0]) };
    return $v;
}

# a userName unique in this test run
sub unique_name {
    my ($prefix) = @_;
    $prefix //= 'user';
    $NAME_SEQ++;
    return sprintf('%s-%d-%d-%04x@example.com', $prefix, $$, $NAME_SEQ,
                   int(rand(65536)));
}

sub uri_escape {
    my ($s) = @_;
    utf8::encode($s) if utf8::is_utf8($s);
    $s =~ s/([^A-Za-z0-9\-._~])/sprintf('%%%02X', ord($1))/ge;
    return $s;
}

# qs(filter => '...', count => 5): ordered pairs -> "filter=...&count=5"
sub qs {
    my @p = @_;
    my @out;
    while (@p) {
        my ($k, $v) = splice(@p, 0, 2);
        push @out, defined $v ? uri_escape($k) . '=' . uri_escape($v)
                              : uri_escape($k);
    }
    return join('&', @out);
}

# the way Entra encodes its filter: filter=userName+eq+%22value%22
sub entra_filter_qs {
    my ($attr, $value) = @_;
    my $v = uri_escape($value);
    return "filter=$attr+eq+%22$v%22";
}

sub patch_body {
    my @ops = @_;
    return { schemas => [URN_PATCH], Operations => [@ops] };
}

# An Entra-shaped POST body (sequence B of the research notes).
sub entra_user {
    my (%o) = @_;
    my $un = delete $o{userName} // unique_name('entra');
    my $body = {
        schemas    => [URN_USER, URN_ENT],
        externalId => 'ext-' . substr(sha256_hex(rand() . $$ . ++$NAME_SEQ), 0, 16),
        userName   => $un,
        active     => jtrue,
        emails     => [{ primary => jtrue, type => 'work', value => $un }],
        meta       => { resourceType => 'User' },
        name       => { formatted  => 'Given Family',
                        familyName => 'Family',
                        givenName  => 'Given' },
        roles      => [],
    };
    for my $k (keys %o) {
        if (defined $o{$k}) { $body->{$k} = $o{$k} } else { delete $body->{$k} }
    }
    return $body;
}

# An RFC 7643 section 7 schema document (JSON text) for a User extension
# whose attributes are all single-valued readWrite strings.
sub ext_schema {
    my ($urn, $name, @attrs) = @_;
    return json_encode({
        id          => $urn,
        name        => $name,
        description => "$name User extension (test)",
        attributes  => [ map { {
            name        => $_,
            type        => 'string',
            multiValued => jfalse,
            description => $_,
            required    => jfalse,
            caseExact   => jfalse,
            mutability  => 'readWrite',
            returned    => 'default',
            uniqueness  => 'none',
        } } @attrs ],
        meta => { resourceType => 'Schema',
                  location => "/v2/Schemas/$urn" },
    });
}

# ISO 8601 / RFC 3339 dateTime as SCIM wants it
sub iso8601_ok {
    my ($s) = @_;
    return defined $s && !ref $s
        && $s =~ /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)$/;
}

sub iso8601_epoch {
    my ($s) = @_;
    return undef unless iso8601_ok($s);
    require Time::Local;
    my ($y, $mo, $d, $h, $mi, $se, $frac, $tz) = $s =~
        /^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/;
    my $e = eval { Time::Local::timegm($se, $mi, $h, $d, $mo - 1, $y) };
    return undef unless defined $e;
    $e += $frac if defined $frac;
    if ($tz ne 'Z') {
        my ($sign, $th, $tm) = $tz =~ /^([+-])(\d\d):(\d\d)$/;
        my $off = $th * 3600 + $tm * 60;
        $e -= $sign eq '+' ? $off : -$off;
    }
    return $e;
}

# Value at an Entra attribute path in a resource (exact, canonical case):
#   userName, name.givenName, emails[type eq "work"].value,
#   roles[primary eq "True"].display,
#   urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager
# Returns undef when absent.
sub scim_get_path {
    my ($res, $path) = @_;
    return undef unless ref $res eq 'HASH';
    my $node = $res;
    if ($path =~ /^(urn:.*):([^:]+)$/i) {
        my ($urn, $rest) = ($1, $2);
        $node = $res->{$urn};
        return undef unless ref $node eq 'HASH';
        $path = $rest;
    }
    my ($attr, $fa, $fv, $sub) = $path =~
        /^([A-Za-z\$][\w\$-]*)(?:\[\s*(\w+)\s+eq\s+"([^"]*)"\s*\])?(?:\.([\w\$]+))?$/
        or die "scim_get_path: cannot parse '$path'";
    my $v = $node->{$attr};
    if (defined $fa) {
        return undef unless ref $v eq 'ARRAY';
        my @m = grep {
            ref $_ eq 'HASH' && defined $_->{$fa} && (
                JSON::PP::is_bool($_->{$fa})
                    ? (($_->{$fa} ? 'true' : 'false') eq lc $fv)
                    : (lc $_->{$fa} eq lc $fv))
        } @$v;
        return undef unless @m;
        $v = $m[0];
    }
    if (defined $sub) {
        return undef unless ref $v eq 'HASH';
        $v = $v->{$sub};
    }
    return $v;
}


# ------------------------------------------------------ assertion helpers

sub _short {
    my ($s) = @_;
    $s //= '';
    $s = substr($s, 0, 600) . '...' if length $s > 600;
    return $s;
}

sub _res_diag {
    my ($res) = @_;
    return "no response" unless $res;
    return sprintf("HTTP %s%s\nContent-Type: %s\n%s",
        $res->{status}, ($res->{error} ? " ($res->{error})" : ''),
        $res->{headers}{'content-type'} // '(none)', _short($res->{content}));
}

sub scim_ctype_ok {
    my ($res) = @_;
    my $ct = $res->{headers}{'content-type'} // '';
    return $ct =~ m{^application/scim\+json\s*(?:;.*)?$}i ? 1 : 0;
}

sub no_html {
    my ($res) = @_;
    my $c = $res->{content} // '';
    my $ct = $res->{headers}{'content-type'} // '';
    return ($ct !~ /html/i && $c !~ /<html|<center|<!DOCTYPE/i) ? 1 : 0;
}

# One assertion: HTTP status, Content-Type application/scim+json, body
# {"schemas":[Error], "status":"<status>" (a JSON string), "scimType"}.
# $scim_type undef: not checked; '' : must be absent.
sub is_scim_error {
    my ($res, $status, $scim_type, $name) = @_;
    my @why;
    $name //= "SCIM error $status" . (defined $scim_type ? " $scim_type" : '');
    push @why, "HTTP status $res->{status}, expected $status"
        if ($res->{status} // 0) != $status;
    push @why, "Content-Type is not application/scim+json"
        unless scim_ctype_ok($res);
    my $j = $res->{json};
    if (ref $j ne 'HASH') {
        push @why, "body is not a JSON object";
    } else {
        push @why, "schemas lacks " . URN_ERROR
            unless ref $j->{schemas} eq 'ARRAY'
                && grep { defined $_ && $_ eq URN_ERROR } @{$j->{schemas}};
        push @why, "\"status\" is not the string \"$status\""
            unless ($res->{content} // '') =~ /"status"\s*:\s*"\Q$status\E"/
                && defined $j->{status} && $j->{status} eq "$status";
        if (defined $scim_type && $scim_type ne '') {
            push @why, "scimType is " . ($j->{scimType} // 'absent')
                . ", expected $scim_type"
                unless defined $j->{scimType} && $j->{scimType} eq $scim_type;
        } elsif (defined $scim_type) {
            push @why, "scimType present" if exists $j->{scimType};
        }
    }
    my $ok = Test::More->builder->ok(!@why, $name);
    Test::More::diag(join("\n", @why, _res_diag($res))) unless $ok;
    return $ok;
}

# One assertion: HTTP status, scim+json Content-Type, JSON object body.
sub is_scim_json {
    my ($res, $status, $name) = @_;
    my @why;
    push @why, "HTTP status $res->{status}, expected $status"
        if ($res->{status} // 0) != $status;
    push @why, "Content-Type is not application/scim+json"
        unless scim_ctype_ok($res);
    push @why, "body is not a JSON object" unless ref $res->{json} eq 'HASH';
    my $ok = Test::More->builder->ok(!@why, $name // "HTTP $status SCIM JSON");
    Test::More::diag(join("\n", @why, _res_diag($res))) unless $ok;
    return $ok;
}

# One assertion: 200 ListResponse with the given totalResults (undef: any)
# and, if given, the number of Resources.
sub is_list_response {
    my ($res, $total, $n, $name) = @_;
    my @why;
    push @why, "HTTP status $res->{status}, expected 200"
        if ($res->{status} // 0) != 200;
    push @why, "Content-Type is not application/scim+json"
        unless scim_ctype_ok($res);
    my $j = $res->{json};
    if (ref $j ne 'HASH') {
        push @why, "body is not a JSON object";
    } else {
        push @why, "schemas is not [ListResponse]"
            unless ref $j->{schemas} eq 'ARRAY'
                && grep { defined $_ && $_ eq URN_LIST } @{$j->{schemas}};
        push @why, "totalResults is " . ($j->{totalResults} // 'absent')
            . ", expected $total"
            if defined $total
                && !(defined $j->{totalResults} && !ref $j->{totalResults}
                     && $j->{totalResults} =~ /^\d+$/
                     && $j->{totalResults} == $total);
        my $resources = $j->{Resources};
        my $got = ref $resources eq 'ARRAY' ? scalar @$resources
                : defined $resources ? -1 : 0;
        push @why, "Resources is not an array" if $got < 0;
        push @why, "Resources has $got elements, expected $n"
            if defined $n && $got >= 0 && $got != $n;
        for my $k (qw(itemsPerPage startIndex)) {
            push @why, "$k missing or not an integer"
                unless defined $j->{$k} && $j->{$k} =~ /^\d+$/;
        }
        push @why, "itemsPerPage ($j->{itemsPerPage}) != number of Resources"
            if defined $j->{itemsPerPage} && $j->{itemsPerPage} =~ /^\d+$/
                && $got >= 0 && $j->{itemsPerPage} != $got;
    }
    my $ok = Test::More->builder->ok(!@why, $name // 'ListResponse');
    Test::More::diag(join("\n", @why, _res_diag($res))) unless $ok;
    return $ok;
}


# --------------------------------------------------------------- instance

sub _which {
    my ($prog) = @_;
    return $prog if $prog =~ m{/} && -x $prog;
    for my $d ((split /:/, ($ENV{PATH} // '')), '/usr/sbin', '/usr/bin',
               '/sbin', '/bin', '/usr/local/bin')
    {
        return "$d/$prog" if $d ne '' && -x "$d/$prog";
    }
    return undef;
}

sub new {
    my ($class, %o) = @_;

    my $self = bless {
        owner      => $$,
        workers    => $o{workers} // 2,
        nports     => $o{ports} // 1,
        want_redis => $o{redis} // 1,
        redis_unix => $o{redis_unix} // 0,
        redis_opts => $o{redis_opts} // [],
        redis_password => $o{redis_password},
        need_module => $o{module} // 1,
        base       => $o{base} // '/scim/v2',
        token      => 'tok-' . sha256_hex(rand() . $$ . time()),
        http_timeout => $o{http_timeout} // 10,
        cluster_mode => $o{cluster}
            // (($ENV{SCIM_TEST_REDIS} // '') eq 'cluster' ? 1 : 0),
        conn       => {},
    }, $class;

    if ($self->{cluster_mode} && $o{no_cluster}) {
        Test::More::plan(skip_all => "not on a Redis Cluster: $o{no_cluster}");
    }

    $self->{nginx} = $ENV{SCIM_NGINX} // '/usr/sbin/nginx';
    $self->{module} = $ENV{SCIM_MODULE}
        // "$REPO/build/ngx_http_scim_module.so";
    $self->{redis_server} = _which($ENV{SCIM_REDIS_SERVER} // 'redis-server');

    unless (-x $self->{nginx}) {
        Test::More::plan(skip_all => "nginx not found ($self->{nginx})");
    }
    if ($self->{want_redis} && !$self->{redis_server}) {
        Test::More::plan(skip_all => 'redis-server not found');
    }
    if ($self->{need_module} && !-f $self->{module}) {
        Test::More::plan(skip_all =>
            "module not built: $self->{module} (run make)");
    }
    $self->{module} = abs_path($self->{module}) if -f $self->{module};

    my $tmproot = File::Spec->tmpdir;
    # unix socket paths are limited to ~107 bytes
    $tmproot = '/tmp' if length($tmproot) > 40;
    $self->{dir} = File::Temp::tempdir('scimtest-XXXXXXXX', DIR => $tmproot,
        CLEANUP => !$ENV{SCIM_TEST_KEEP});
    chmod 0755, $self->{dir};

    $self->{ports} = [ map { $self->free_port } 1 .. $self->{nports} ];
    $self->{port} = $self->{ports}[0];
    if ($self->{want_redis}) {
        $self->{redis_port} = $self->free_port;
        $self->{redis_sock} = "$self->{dir}/redis.sock";
    }
    $self->{token_file} = $self->write_file('tokens',
        "# test tokens\n$self->{token}\n");

    push @INSTANCES, $self;

    my $timeout = $ENV{SCIM_TEST_TIMEOUT} // $o{timeout} // 300;
    $SIG{ALRM} = sub {
        Test::More::diag("watchdog: test file exceeded ${timeout}s, "
            . "killing everything");
        $_->cleanup for @INSTANCES;
        exit 255;
    };
    alarm($timeout);

    Test::More::note("temp dir $self->{dir}");

    if ($self->{need_module}) {
        my ($ok, $out) = $self->nginx_t('', no_module => 0);
        unless ($ok) {
            Test::More::ok(0, 'the module loads into nginx');
            Test::More::diag($out);
            $self->abort;
        }
    }

    if ($self->{want_redis} && ($o{start_redis} // 1) && $self->{cluster_mode}) {
        require ScimCluster;
        my $c = ScimCluster->new(dir => $self->{dir},
            free_port => sub { $self->free_port },
            password => $self->{redis_password});
        unless ($c->start) {
            Test::More::ok(0, 'a redis cluster starts');
            $self->abort('cannot start a redis cluster: ' . $c->error);
        }
        $self->{cluster} = $c;
        Test::More::note('redis cluster: ' . $c->seeds);
    } elsif ($self->{want_redis} && ($o{start_redis} // 1)) {
        unless ($self->start_redis) {
            # the port may have been taken meanwhile: one more try
            $self->{redis_port} = $self->free_port;
            unless ($self->start_redis) {
                Test::More::ok(0, 'redis-server starts');
                $self->abort('cannot start redis-server: '
                    . $self->tail("$self->{dir}/redis.out")
                    . $self->tail("$self->{dir}/redis.log"));
            }
        }
    }
    return $self;
}

sub cluster    { $_[0]{cluster} }
sub cluster_mode { $_[0]{cluster_mode} }

# for a file that needs the one redis-server: skipped in cluster mode
sub skip_on_cluster {
    my ($self, $why) = @_;
    return unless $self->{cluster_mode};
    $self->{cluster}->stop if $self->{cluster};
    alarm(0);
    Test::More::plan(skip_all => 'not on a Redis Cluster: ' . $why);
}

sub dir        { $_[0]{dir} }
sub port       { $_[0]{ports}[ ($_[1] // 1) - 1 ] }
sub redis_port { $_[0]{redis_port} }
sub redis_sock { $_[0]{redis_sock} }
sub token      { $_[0]{token} = $_[1] if @_ > 1; $_[0]{token} }
sub token_file { $_[0]{token_file} }
sub module     { $_[0]{module} }
sub repo       { $REPO }
sub base       { $_[0]{base} }

# A TCP port on 127.0.0.1 below the ephemeral range, free right now.
sub free_port {
    my ($self) = @_;
    my %taken = map { $_ => 1 } @{$self->{ports} // []},
                                 ($self->{redis_port} // ());
    for (1 .. 200) {
        my $p = 10000 + int(rand(22000));
        next if $taken{$p};
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
            LocalPort => $p, Proto => 'tcp', Listen => 1, ReuseAddr => 1)
            or next;
        close $s;
        my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $p, Proto => 'tcp', Timeout => 1);
        if ($c) { close $c; next }
        return $p;
    }
    die "no free port found";
}

sub write_file {
    my ($self, $name, $content, $mode) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $fh, '>:raw', $path or die "write $path: $!";
    print $fh $content;
    close $fh or die "close $path: $!";
    chmod $mode, $path if defined $mode;
    return $path;
}

sub read_file {
    my ($self, $name) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open my $fh, '<:raw', $path or return undef;
    local $/;
    my $c = <$fh>;
    close $fh;
    return $c;
}

sub tail {
    my ($self, $path, $n) = @_;
    my $c = $self->read_file($path) // '';
    my @l = split /\n/, $c;
    $n //= 30;
    @l = @l[-$n .. -1] if @l > $n;
    return join("\n", @l);
}

# Token file with the given lines; returns its path.
sub write_tokens {
    my ($self, $name, @lines) = @_;
    return $self->write_file($name, join('', map { "$_\n" } @lines));
}

sub sha256_line { 'sha256:' . sha256_hex($_[1]) }


# ----------------------------------------------------------------- config

sub subst {
    my ($self, $text) = @_;
    my %v = (
        PORT        => $self->{ports}[0],
        DIR         => $self->{dir},
        MODULE      => $self->{module},
        TOKEN       => $self->{token},
        TOKEN_FILE  => $self->{token_file},
        REPO        => $REPO,
        REDIS       => $self->{cluster} ? $self->{cluster}->seeds
                       : '127.0.0.1:' . ($self->{redis_port} // 6379),
        REDIS_PORT  => $self->{cluster} ? ($self->{cluster}->primaries)[0]
                       : $self->{redis_port} // 6379,
        REDIS_SOCK  => $self->{redis_sock} // "$self->{dir}/redis.sock",
    );
    for my $i (1 .. @{$self->{ports}}) {
        $v{"PORT$i"} = $self->{ports}[$i - 1];
    }
    $text =~ s/%%([A-Z_0-9]+)%%/exists $v{$1} ? $v{$1} : die "unknown placeholder %%$1%%"/ge;
    return $text;
}

# The whole nginx.conf around an http{} body.
sub full_conf {
    my ($self, $http_body, %o) = @_;
    my $dir = $self->{dir};
    my $log = $o{error_log} // "$dir/error.log";
    my $workers = $o{workers} // $self->{workers};
    my $main = $o{main} // '';
    my $conf = '';
    $conf .= "load_module $self->{module};\n"
        if $self->{need_module} && !$o{no_module};
    $conf .= "user root;\n" if $> == 0;
    $conf .= <<"EOF";
daemon off;
master_process on;
worker_processes $workers;
pid $dir/nginx.pid;
error_log $log info;
$main

events {
    worker_connections 1024;
}

http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body_temp;
    proxy_temp_path $dir/proxy_temp;
    fastcgi_temp_path $dir/fastcgi_temp;
    uwsgi_temp_path $dir/uwsgi_temp;
    scgi_temp_path $dir/scgi_temp;
    default_type application/octet-stream;

EOF
    $conf .= $self->subst($http_body);
    $conf .= "\n}\n";
    return $conf;
}

sub write_config {
    my ($self, $http_body, %o) = @_;
    $self->{conf_body} = $http_body;
    $self->{conf_opts} = { %o };
    return $self->write_file('nginx.conf', $self->full_conf($http_body, %o));
}

# A server with one SCIM location, the usual case.
#   tenant (acme), location (/scim/v2/), extra (directives in the location),
#   server_extra, http_extra
sub standard_conf {
    my ($self, %o) = @_;
    my $tenant = $o{tenant} // 'acme';
    my $loc = $o{location} // "$self->{base}/";
    my $extra = $o{extra} // '';
    my $sextra = $o{server_extra} // '';
    my $hextra = $o{http_extra} // '';
    return <<"EOF";
$hextra
server {
    listen 127.0.0.1:%%PORT%%;
    server_name localhost;
$sextra
    location $loc {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant $tenant;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_redis_connect_timeout 1s;
        scim_redis_timeout 2s;
$extra
    }
}
EOF
}

# nginx -t on a config (http body template); returns (ok, output).
my $NT_SEQ = 0;
sub nginx_t {
    my ($self, $http_body, %o) = @_;
    $NT_SEQ++;
    my $dir = $self->{dir};
    my $log = "$dir/nginx-t-$NT_SEQ.log";
    my $file = $self->write_file("nginx-t-$NT_SEQ.conf",
        $self->full_conf($http_body, %o, error_log => $log));
    my $out = "$dir/nginx-t-$NT_SEQ.out";
    my ($rc) = $self->_run_cmd([$self->{nginx}, '-t', '-p', "$dir/",
        '-c', $file, '-e', $log], $out, 30);
    my $text = ($self->read_file($out) // '') . ($self->read_file($log) // '');
    return (defined $rc && $rc == 0 ? 1 : 0, $text);
}

# run a command with output to a file, bounded; returns exit code
# (undef when killed on timeout)
sub _run_cmd {
    my ($self, $cmd, $outfile, $timeout) = @_;
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>', $outfile;
        open STDERR, '>&', \*STDOUT;
        exec @$cmd or POSIX::_exit(127);
    }
    my $deadline = time + $timeout;
    while (time < $deadline) {
        my $w = waitpid($pid, WNOHANG);
        return $? >> 8 if $w == $pid;
        sleep 0.05;
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return undef;
}


# ------------------------------------------------------------------ nginx

sub start_nginx {
    my ($self) = @_;
    my $dir = $self->{dir};
    die "write_config first" unless -f "$dir/nginx.conf";
    unlink "$dir/nginx.pid";
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/nginx.out";
        open STDERR, '>&', \*STDOUT;
        exec($self->{nginx}, '-p', "$dir/", '-c', "$dir/nginx.conf",
             '-e', "$dir/error.log") or POSIX::_exit(127);
    }
    $self->{nginx_pid} = $pid;
    my $deadline = time + 15;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{nginx_pid};
            Test::More::diag("nginx exited at start (status $?):\n"
                . $self->tail("$dir/nginx.out") . "\n"
                . $self->tail("$dir/error.log"));
            return 0;
        }
        if (-s "$dir/nginx.pid" && $self->_ports_up
            && $self->worker_pids >= $self->{workers})
        {
            return 1;
        }
        sleep 0.05;
    }
    Test::More::diag("nginx did not come up in 15s:\n"
        . $self->tail("$dir/error.log"));
    return 0;
}

sub _ports_up {
    my ($self) = @_;
    for my $p (@{$self->{ports}}) {
        my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $p,
            Proto => 'tcp', Timeout => 1) or return 0;
        close $s;
    }
    return 1;
}

sub nginx_pid { $_[0]{nginx_pid} }

sub _children_of {
    my ($ppid) = @_;
    return () unless $ppid;
    my @kids;
    opendir my $dh, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $dh) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $st = <$fh>;
        close $fh;
        next unless defined $st && $st =~ /.*\)\s+(\S)\s+(\d+)/s;
        my ($state, $pp) = ($1, $2);
        push @kids, $p if $pp == $ppid && $state ne 'Z';
    }
    closedir $dh;
    my @sorted = sort { $a <=> $b } @kids;
    return @sorted;
}

# live worker (and cache manager, if any) processes of the master
sub worker_pids {
    my ($self) = @_;
    return _children_of($self->{nginx_pid});
}

sub _alive {
    my ($pid) = @_;
    return 0 unless $pid && kill(0, $pid);
    open my $fh, '<', "/proc/$pid/stat" or return 0;
    my $st = <$fh>;
    close $fh;
    return 0 unless defined $st && $st =~ /.*\)\s+(\S)/s;
    return $1 ne 'Z';
}

# SIGHUP to the master (cmd => 1: run `nginx -s reload` instead, which
# finds the master through the pid file); waits (<= $timeout s) until a
# new generation of workers runs; with wait_old => 1 also until the old
# workers are gone.  Returns 1 when the new workers are up.
sub reload {
    my ($self, %o) = @_;
    my $timeout = $o{timeout} // 15;
    my %old = map { $_ => 1 } $self->worker_pids;
    my $mark = $self->log_mark;
    if ($o{cmd}) {
        my $dir = $self->{dir};
        my $rc = $self->_run_cmd([$self->{nginx}, '-p', "$dir/", '-c',
            "$dir/nginx.conf", '-e', "$dir/error.log", '-s', 'reload'],
            "$dir/nginx-s.out", 20);
        unless (defined $rc && $rc == 0) {
            Test::More::diag('nginx -s reload failed: '
                . ($self->read_file('nginx-s.out') // ''));
            return 0;
        }
    } else {
        kill 'HUP', $self->{nginx_pid} or return 0;
    }
    my $deadline = time + $timeout;
    my $up = 0;
    while (time < $deadline) {
        my @new = grep { !$old{$_} } $self->worker_pids;
        if (@new >= $self->{workers}) { $up = 1; last }
        if ($self->log_since($mark) =~ /\[emerg\]/) { last }
        sleep 0.05;
    }
    if ($up && $o{wait_old}) {
        while (time < $deadline) {
            last unless grep { _alive($_) } keys %old;
            sleep 0.05;
        }
    }
    $self->{conn} = {};      # old workers close kept-alive connections
    return $up;
}

# QUIT (graceful) and wait; TERM then KILL if it takes longer than
# $timeout.  Returns 1 if nginx stopped gracefully in time.
sub stop_nginx {
    my ($self, %o) = @_;
    my $pid = $self->{nginx_pid} or return 1;
    my $timeout = $o{timeout} // 15;
    my @kids = $self->worker_pids;
    $self->{conn} = {};
    kill 'QUIT', $pid;
    my $graceful = _wait_child($pid, $timeout);
    unless ($graceful) {
        kill 'TERM', $pid;
        unless (_wait_child($pid, 3)) {
            kill 'KILL', $pid;
            _wait_child($pid, 3);
        }
    }
    for my $k (@kids) { kill 'KILL', $k if _alive($k) }
    delete $self->{nginx_pid};
    return $graceful;
}

sub _wait_child {
    my ($pid, $timeout) = @_;
    my $deadline = time + $timeout;
    while (time < $deadline) {
        my $w = waitpid($pid, WNOHANG);
        return 1 if $w == $pid || $w == -1;
        sleep 0.05;
    }
    return 0;
}

# error.log helpers
sub error_log { $_[0]->read_file('error.log') // '' }
sub log_mark  { -s "$_[0]{dir}/error.log" || 0 }

sub log_since {
    my ($self, $mark) = @_;
    my $c = $self->error_log;
    return length($c) > $mark ? substr($c, $mark) : '';
}

# One assertion on error.log since $mark.  What error.log (and, from the
# start, nginx's own stderr in nginx.out) must never hold: an alert, crit
# or emerg line, a sanitizer's report (make test-asan) or a worker that
# died on a signal.  A line matching $self->{allow_log} (a
# regex a test sets for a failure it provokes on purpose) is let through.
my $BAD_LOG = qr/\[(?:alert|crit|emerg)\]|runtime error:|AddressSanitizer|
                 LeakSanitizer|UndefinedBehaviorSanitizer|exited\ on\ signal/x;

sub no_alerts_since {
    my ($self, $mark, $name) = @_;
    my $allow = $self->{allow_log};
    my $text = $self->log_since($mark // 0);
    $text .= "\n" . ($self->read_file('nginx.out') // '') unless $mark;
    my @bad = grep { $_ =~ $BAD_LOG && !(defined $allow && $_ =~ $allow) }
              split /\n/, $text;
    my $ok = Test::More->builder->ok(!@bad, $name // 'no alert/crit/emerg in error.log');
    Test::More::diag(join("\n", @bad[0 .. ($#bad < 20 ? $#bad : 19)])) unless $ok;
    return $ok;
}

# Gives up on this file (e.g. nginx does not start): kills everything,
# ends the TAP stream with what ran so far, exits non-zero.  Unlike
# BAIL_OUT, prove goes on with the other files.
sub abort {
    my ($self, $why) = @_;
    Test::More::diag("giving up on this file: $why") if defined $why;
    Test::More::diag("error.log (tail) of $self->{dir}:\n"
        . $self->tail('error.log', 30)) if -s "$self->{dir}/error.log";
    $_->cleanup for @INSTANCES;
    alarm(0);
    Test::More::done_testing();
    exit 1;
}

# start_nginx or abort
sub start_nginx_ok {
    my ($self, $name) = @_;
    my $ok = $self->start_nginx;
    Test::More::ok($ok, $name // 'nginx started');
    $self->abort('nginx does not start') unless $ok;
    return 1;
}

# The end of every test file: stop nginx gracefully, assert that
# error.log holds no [alert]/[crit]/[emerg], stop redis, done_testing.
sub finish {
    my ($self, %o) = @_;
    if ($self->{nginx_pid}) {
        Test::More::ok($self->stop_nginx, 'nginx stopped gracefully (QUIT)');
    }
    $self->no_alerts_since(0, 'error.log has no [alert], [crit] or [emerg], '
                              . 'no sanitizer report, no worker killed');
    unless (Test::More->builder->is_passing) {
        Test::More::diag("error.log (tail) of $self->{dir}:\n"
            . $self->tail('error.log', 40));
    }
    $self->stop_redis if $self->{redis_pid};
    $self->{cluster}->stop if $self->{cluster};
    alarm(0);
    Test::More::done_testing();
}


# ------------------------------------------------------------------ redis

sub start_redis {
    my ($self) = @_;
    my $dir = $self->{dir};
    my @cmd = ($self->{redis_server}, '--port', $self->{redis_port},
        '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
        '--dir', $dir, '--daemonize', 'no', '--logfile', "$dir/redis.log",
        '--dbfilename', 'dump.rdb', '--protected-mode', 'no');
    push @cmd, '--unixsocket', $self->{redis_sock}, '--unixsocketperm', '777'
        if $self->{redis_unix};
    push @cmd, '--requirepass', $self->{redis_password}
        if defined $self->{redis_password};
    push @cmd, @{$self->{redis_opts}};
    my $pid = fork;
    die "fork: $!" unless defined $pid;
    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$dir/redis.out";
        open STDERR, '>&', \*STDOUT;
        exec @cmd or POSIX::_exit(127);
    }
    $self->{redis_pid} = $pid;
    my $deadline = time + 10;
    while (time < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{redis_pid};
            Test::More::diag("redis-server exited: "
                . $self->tail("$dir/redis.out") . $self->tail("$dir/redis.log"));
            return 0;
        }
        my ($r) = $self->redis_cmd('PING');
        return 1 if defined $r && $r eq 'PONG';
        sleep 0.05;
    }
    return 0;
}

# stop redis-server; save => 1 writes dump.rdb first (SHUTDOWN SAVE), so
# that a restart on the same port finds the data again
sub stop_redis {
    my ($self, %o) = @_;
    my $pid = $self->{redis_pid} or return 1;
    if ($o{save}) {
        $self->redis_cmd('SHUTDOWN', 'SAVE');
    } else {
        kill 'TERM', $pid;
    }
    unless (_wait_child($pid, 10)) {
        kill 'KILL', $pid;
        _wait_child($pid, 3);
    }
    delete $self->{redis_pid};
    delete $self->{redis_conn};
    return 1;
}

sub redis_pid { $_[0]{redis_pid} }

sub redis_signal {
    my ($self, $sig) = @_;
    return kill $sig, $self->{redis_pid};
}

sub _redis_connect {
    my ($self, %o) = @_;
    my $s;
    if ($o{unix}) {
        $s = IO::Socket::UNIX->new(Peer => $self->{redis_sock},
                                   Type => Socket::SOCK_STREAM());
    } else {
        $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
            PeerPort => $self->{redis_port}, Proto => 'tcp', Timeout => 2);
    }
    return undef unless $s;
    binmode $s;
    my $pw = exists $o{password} ? $o{password} : $self->{redis_password};
    if (defined $pw) {
        my ($r, $e) = _redis_io($s, ['AUTH', $pw], 3);
        return undef if $e;
    }
    if ($o{db}) {
        my ($r, $e) = _redis_io($s, ['SELECT', $o{db}], 3);
        return undef if $e;
    }
    return $s;
}

# One Redis command over a raw RESP socket (own connection, kept).
# Scalar context: the reply (undef for nil or error); list context:
# (reply, error).  Arrays come back as array refs.  Options via a leading
# hash ref: { db => 3, password => 'x', timeout => 3 }.
sub redis_cmd {
    my ($self, @args) = @_;
    return $self->{cluster}->cmd(@args) if $self->{cluster};
    my %o = ref $args[0] eq 'HASH' ? %{ shift @args } : ();
    my $key = join(',', $o{db} // 0, $o{password} // '');
    my $s = $self->{redis_conn}{$key};
    for my $try (1, 2) {
        unless ($s) {
            $s = $self->_redis_connect(%o);
            return wantarray ? (undef, 'connect failed') : undef unless $s;
            $self->{redis_conn}{$key} = $s;
        }
        my ($r, $e) = _redis_io($s, \@args, $o{timeout} // 5);
        if (defined $e && $e =~ /^(?:EOF|write|timeout)/) {
            delete $self->{redis_conn}{$key};
            $s = undef;
            next if $try == 1 && $e !~ /^timeout/;
        }
        return wantarray ? ($r, $e) : $r;
    }
    return wantarray ? (undef, 'failed') : undef;
}

sub _redis_io {
    my ($s, $args, $timeout) = @_;
    my $req = '*' . scalar(@$args) . "\r\n";
    for my $a (@$args) {
        my $b = $a;
        utf8::encode($b) if utf8::is_utf8($b);
        $req .= '$' . length($b) . "\r\n$b\r\n";
    }
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $req) {
        my $n = syswrite($s, $req, length($req) - $off, $off);
        return (undef, "write: $!") unless defined $n;
        $off += $n;
    }
    my $buf = '';
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($s);
    while (1) {
        my ($v, $pos, $err) = _resp_parse(\$buf, 0);
        if (defined $pos) {
            return (undef, $err) if defined $err;
            return ($v, undef);
        }
        my $left = $deadline - time;
        return (undef, 'timeout') if $left <= 0;
        next unless $sel->can_read($left);
        my $n = sysread($s, $buf, 65536, length $buf);
        return (undef, 'EOF') unless $n;
    }
}

# returns (value, new_pos, error) or () when incomplete
sub _resp_parse {
    my ($buf, $pos) = @_;
    my $eol = index($$buf, "\r\n", $pos);
    return () if $eol < 0;
    my $type = substr($$buf, $pos, 1);
    my $line = substr($$buf, $pos + 1, $eol - $pos - 1);
    my $next = $eol + 2;
    if ($type eq '+') { return ($line, $next) }
    if ($type eq '-') { return (undef, $next, $line) }
    if ($type eq ':') { return ($line + 0, $next) }
    if ($type eq '$') {
        return (undef, $next) if $line < 0;
        return () if length($$buf) < $next + $line + 2;
        return (substr($$buf, $next, $line), $next + $line + 2);
    }
    if ($type eq '*') {
        return (undef, $next) if $line < 0;
        my @a;
        my $p = $next;
        for (1 .. $line) {
            my ($v, $np, $e) = _resp_parse($buf, $p);
            return () unless defined $np;
            push @a, defined $e ? "ERR:$e" : $v;
            $p = $np;
        }
        return (\@a, $p);
    }
    return (undef, length $$buf, "bad RESP type '$type'");
}

# keys matching a pattern (SCAN, bounded)
sub redis_keys {
    my ($self, $pattern, %o) = @_;
    return $self->{cluster}->scan_keys($pattern) if $self->{cluster};
    my $cursor = 0;
    my %k;
    for (1 .. 10000) {
        my $r = $self->redis_cmd({ %o }, 'SCAN', $cursor, 'MATCH', $pattern,
                                 'COUNT', 1000);
        last unless ref $r eq 'ARRAY';
        $cursor = $r->[0];
        $k{$_} = 1 for @{$r->[1] // []};
        last if $cursor eq '0';
    }
    return sort keys %k;
}

# layout 3 (README "Redis data model"): documents in <Type>:docs, the
# memberships in the zsets members ("<g>\0<m>") and memberof ("<m>\0<g>")
sub redis_doc {
    my ($self, $p, $type, $id) = @_;
    return scalar $self->redis_cmd('HGET', "${p}$type:docs", $id);
}

# the ids whose externalId is x, exactly, in the index of type (layout
# 3: zset "<externalId>\0<id>"), sorted
sub redis_ext_ids {
    my ($self, $p, $type, $x) = @_;
    my $r = $self->redis_cmd({ timeout => 60 }, 'ZRANGEBYLEX',
                             "${p}$type:idx:externalId", "[$x\0", "($x\1");
    return undef unless ref $r eq 'ARRAY';
    return [sort grep { !/\0/ } map { substr($_, length($x) + 1) } @$r];
}

sub _redis_related {
    my ($self, $p, $z, $id) = @_;
    my $r = $self->redis_cmd({ timeout => 60 }, 'ZRANGEBYLEX', "$p$z",
                             "[$id\0", "($id\1");
    return undef unless ref $r eq 'ARRAY';
    return [map { substr($_, length($id) + 1) } @$r];
}

sub _redis_nrelated {
    my ($self, $p, $z, $id) = @_;
    return scalar $self->redis_cmd('ZLEXCOUNT', "$p$z", "[$id\0",
                                   "($id\1");
}

sub redis_members    { $_[0]->_redis_related($_[1], 'members', $_[2]) }
sub redis_groups_of  { $_[0]->_redis_related($_[1], 'memberof', $_[2]) }
sub redis_nmembers   { $_[0]->_redis_nrelated($_[1], 'members', $_[2]) }
sub redis_ngroups_of { $_[0]->_redis_nrelated($_[1], 'memberof', $_[2]) }

sub redis_is_member {
    my ($self, $p, $g, $m) = @_;
    return defined(scalar $self->redis_cmd('ZSCORE', "${p}members",
                                           "$g\0$m")) ? 1 : 0;
}

sub redis_has_group {
    my ($self, $p, $m, $g) = @_;
    return defined(scalar $self->redis_cmd('ZSCORE', "${p}memberof",
                                           "$m\0$g")) ? 1 : 0;
}

# every key matching pattern with its type and contents (a hash as
# "field=value" strings, a zset as "member=score", sorted)
sub redis_dump {
    my ($self, $pattern) = @_;
    my %d;
    for my $k ($self->redis_keys($pattern)) {
        my $type = $self->redis_cmd('TYPE', $k) // 'none';
        my @v;
        if ($type eq 'string') {
            @v = (scalar $self->redis_cmd('GET', $k));
        } elsif ($type eq 'hash') {
            my %h = @{ $self->redis_cmd({ timeout => 60 }, 'HGETALL', $k) // [] };
            @v = map { "$_=$h{$_}" } keys %h;
        } elsif ($type eq 'zset') {
            my %z = @{ $self->redis_cmd({ timeout => 60 }, 'ZRANGE', $k, 0, -1,
                                        'WITHSCORES') // [] };
            @v = map { "$_=$z{$_}" } keys %z;
        } elsif ($type eq 'set') {
            @v = @{ $self->redis_cmd({ timeout => 60 }, 'SMEMBERS', $k) // [] };
        }
        $d{$k} = [$type, sort map { $_ // '' } @v];
    }
    return \%d;
}

sub redis_mentions {
    my ($self, $p, $id) = @_;
    my @m;
    for my $k ($self->redis_keys("$p*")) {
        if (index($k, $id) >= 0) { push @m, $k; next }
        my $type = $self->redis_cmd('TYPE', $k) // 'none';
        my $in = $type eq 'hash'
                 ? $self->redis_cmd({ timeout => 60 }, 'HKEYS', $k)
                 : $type eq 'zset'
                 ? $self->redis_cmd({ timeout => 60 }, 'ZRANGE', $k, 0, -1)
                 : [];
        push @m, map { "$k $_" } grep { index($_, $id) >= 0 } @{ $in // [] };
    }
    return \@m;
}

sub redis_monitor {
    my ($self, $code, %o) = @_;
    # on a cluster: every primary (the mark is echoed on each)
    my @ports = $self->{cluster} ? $self->{cluster}->primaries
                                 : ($self->redis_port);
    my (@m, %buf);
    for my $p (@ports) {
        my $m = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                      PeerPort => $p, Timeout => 5)
            or die "monitor: $!";
        my $sel = IO::Select->new($m);
        my $buf = '';
        print $m "MONITOR\r\n";
        while ($buf !~ /\+OK\r\n/) {
            $sel->can_read(5) or die 'MONITOR: no answer';
            sysread($m, $buf, 65536, length $buf) or die 'MONITOR: EOF';
        }
        push @m, $m;
        $buf{$m} = '';
    }
    $code->();
    my $mark = 'end-of-monitor-' . rand();
    $self->redis_cmd('ECHO', $mark);
    my @cmds;
    for my $m (@m) {
        my $sel = IO::Select->new($m);
        while (index($buf{$m}, $mark) < 0) {
            $sel->can_read(10) or die 'MONITOR: no end mark';
            sysread($m, $buf{$m}, 65536, length $buf{$m})
                or die 'MONITOR: EOF';
        }
        close($m);
        for my $line (split /\r\n/, $buf{$m}) {
            next unless $line =~ /^\+?[\d.]+ \[\d+ ([^\]]*)\] (.*)$/;
            my ($src, $rest) = ($1, $2);
            my @a = $rest =~ /"((?:[^"\\]|\\.)*)"/g;
            next if !@a || (uc $a[0] eq 'ECHO' && ($a[1] // '') eq $mark);
            $a[0] = uc $a[0];
            # source => 1: "lua" (a script's own command) or "client" first
            unshift @a, $src eq 'lua' ? 'lua' : 'client' if $o{source};
            push @cmds, \@a;
        }
    }
    return \@cmds;
}

# the clients redis sees (CLIENT LIST, parsed into hashes), except our
# own connections
sub redis_clients {
    my ($self) = @_;
    my $list = $self->redis_cmd('CLIENT', 'LIST') // '';
    my %mine = map { $_->sockport => 1 } grep { defined && $_->can('sockport') }
               values %{$self->{redis_conn} // {}};
    my @c;
    for my $l (grep { /\S/ } split /\n/, $list) {
        my %f = map { /^([^=]+)=(.*)$/ ? ($1 => $2) : () } split / /, $l;
        my ($port) = ($f{addr} // '') =~ /:(\d+)$/;
        next if defined $port && $mine{$port};
        push @c, \%f;
    }
    return @c;
}

# number of client connections redis sees, excluding ours
sub redis_client_count {
    my ($self) = @_;
    my @c = $self->redis_clients;
    return scalar @c;
}


# ------------------------------------------------------------------- HTTP
#
# $t->request($method, $path, %o) -> {status, reason, headers (lower-case
# names; repeated headers joined with ", "), content, json, elapsed,
# error}.  status 599 = no (complete) response; never dies.
#   path: "/abs/path" or relative to the base ("Users" -> /scim/v2/Users)
#   body: a reference (JSON-encoded) or a string (sent as is)
#   token: bearer token (default $t->token); token => undef: none
#   headers: { Name => value } added/overriding; value undef removes
#   host: Host header (default 127.0.0.1:port); port: which port
#   timeout (default 10 s); keepalive => 0: fresh connection, closed after
#   ctype: Content-Type of the body (default application/scim+json)
#   chunked => 1: send the body with Transfer-Encoding: chunked

sub _path {
    my ($self, $path) = @_;
    return $path if $path =~ m{^/};
    return "$self->{base}/$path";
}

sub request {
    my ($self, $method, $path, %o) = @_;
    my $port = $o{port} // $self->{port};
    my $host = $o{host} // "127.0.0.1:$port";
    my $body = $o{body};
    $body = json_encode($body) if ref $body;
    my %h = (
        'Host'       => $host,
        'User-Agent' => 'ScimTest/1.0',
        'Accept'     => 'application/scim+json',
    );
    my $tok = exists $o{token} ? $o{token} : $self->{token};
    $h{Authorization} = "Bearer $tok" if defined $tok;
    if (defined $body) {
        $h{'Content-Type'} = $o{ctype} // 'application/scim+json';
        if ($o{chunked}) {
            $h{'Transfer-Encoding'} = 'chunked';
        } else {
            $h{'Content-Length'} = length $body;
        }
    }
    my $ka = $o{keepalive} // 1;
    $h{Connection} = 'close' unless $ka;
    for my $k (keys %{$o{headers} // {}}) {
        my ($old) = grep { lc $_ eq lc $k } keys %h;
        delete $h{$old} if defined $old;
        $h{$k} = $o{headers}{$k} if defined $o{headers}{$k};
    }
    my $req = "$method " . $self->_path($path) . " HTTP/1.1\r\n";
    for my $k (sort { ($a eq 'Host' ? 0 : 1) <=> ($b eq 'Host' ? 0 : 1)
                      || $a cmp $b } keys %h)
    {
        $req .= "$k: $h{$k}\r\n";
    }
    $req .= "\r\n";
    if (defined $body && $o{chunked}) {
        my $cs = $o{chunk_size} // 1000;
        for (my $i = 0; $i < length $body; $i += $cs) {
            my $c = substr($body, $i, $cs);
            $req .= sprintf("%x\r\n", length $c) . $c . "\r\n";
        }
        $req .= "0\r\n\r\n";
    } elsif (defined $body) {
        $req .= $body;
    }
    return $self->raw_request($req, port => $port, keepalive => $ka,
        timeout => $o{timeout}, head => ($method eq 'HEAD'));
}

sub get    { my ($s, $p, %o) = @_; $s->request('GET', $p, %o) }
sub del    { my ($s, $p, %o) = @_; $s->request('DELETE', $p, %o) }
sub post   { my ($s, $p, $b, %o) = @_; $s->request('POST', $p, body => $b, %o) }
sub put    { my ($s, $p, $b, %o) = @_; $s->request('PUT', $p, body => $b, %o) }
sub patch  { my ($s, $p, $b, %o) = @_; $s->request('PATCH', $p, body => $b, %o) }

# PATCH /Users/$id with the given operations
sub patch_ops {
    my ($self, $id, @ops) = @_;
    return $self->patch("Users/$id", patch_body(@ops));
}

# GET Users?<query>; query from pairs: list(filter => '...', count => 2)
sub list {
    my ($self, @q) = @_;
    my %o;
    %o = %{ pop @q } if @q % 2 && ref $q[-1] eq 'HASH';
    my $qs = qs(@q);
    return $self->get('Users' . ($qs ne '' ? "?$qs" : ''), %o);
}

# POST a user; returns the response; diag on failure
sub create_user {
    my ($self, $body, %o) = @_;
    $body = entra_user(userName => $body) unless ref $body;
    my $r = $self->post('Users', $body, %o);
    Test::More::diag("create_user failed: " . _res_diag($r))
        unless $r->{status} == 201 || $o{quiet};
    return $r;
}

# Sends raw bytes; parses one response (or $o{count} pipelined ones).
# Returns the response hash (the first one; all in {all} when count > 1).
sub raw_request {
    my ($self, $bytes, %o) = @_;
    my $port = $o{port} // $self->{port};
    my $timeout = $o{timeout} // $self->{http_timeout};
    my $ka = $o{keepalive} // 0;
    my $t0 = time;
    local $SIG{PIPE} = 'IGNORE';
    if (utf8::is_utf8($bytes)) {
        utf8::downgrade($bytes, 1) or utf8::encode($bytes);
    }

    my $s;
    my $reused = 0;
    if ($ka && $self->{conn}{$port} && $self->{conn}{$port}{pid} == $$) {
        $s = $self->{conn}{$port}{sock};
        # server closed it meanwhile?
        if (IO::Select->new($s)->can_read(0)) {
            my $peek = '';
            my $n = sysread($s, $peek, 1);
            undef $s;
        }
        $reused = 1 if $s;
    }
    delete $self->{conn}{$port} unless $s;
    unless ($s) {
        $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
            Proto => 'tcp', Timeout => $timeout);
        return _res_error("connect: $!", $t0) unless $s;
        binmode $s;
    }

    my $off = 0;
    while ($off < length $bytes) {
        my $n = syswrite($s, $bytes, length($bytes) - $off, $off);
        unless (defined $n) {
            delete $self->{conn}{$port};
            return _res_error("write: $!", $t0);
        }
        $off += $n;
    }
    if ($o{shutdown_write}) {
        shutdown($s, 1);
    }

    my $count = $o{count} // 1;
    my @res;
    my $buf = '';
    my $eof = 0;
    my $deadline = time + $timeout;
    my $sel = IO::Select->new($s);
    while (@res < $count) {
        my $r = _http_parse(\$buf, $eof, $o{head});
        if ($r) {
            next if $r->{status} >= 100 && $r->{status} < 200;  # 100-continue
            $r->{elapsed} = time - $t0;
            push @res, $r;
            next;
        }
        if ($eof) {
            push @res, _res_error(length $buf ? 'incomplete response'
                                              : 'connection closed', $t0,
                                  $buf);
            last;
        }
        my $left = $deadline - time;
        if ($left <= 0) {
            push @res, _res_error("timeout after ${timeout}s", $t0, $buf);
            last;
        }
        next unless $sel->can_read($left > 0.5 ? 0.5 : $left);
        my $n = sysread($s, $buf, 65536, length $buf);
        $eof = 1 unless $n;
    }
    my $keep = $ka && !$eof && @res == $count && $res[-1]{status} != 599
        && lc($res[-1]{headers}{connection} // '') ne 'close';
    if ($keep) {
        $self->{conn}{$port} = { sock => $s, pid => $$ };
    } else {
        delete $self->{conn}{$port};
        close $s;
    }
    my $first = $res[0];
    $first->{all} = \@res if $count > 1;
    return $first;
}

# A fresh connected socket to nginx (for hand-made, slow or aborted
# requests); read_response() parses what comes back.
sub connect_nginx {
    my ($self, %o) = @_;
    if ($o{rcvbuf}) {
        # a small receive window, set before connect: the server's writes
        # block (NGX_AGAIN) until we read
        socket(my $s, Socket::PF_INET(), Socket::SOCK_STREAM(), 0) or return undef;
        setsockopt($s, SOL_SOCKET, Socket::SO_RCVBUF(), $o{rcvbuf});
        connect($s, Socket::pack_sockaddr_in($o{port} // $self->{port},
                                             Socket::inet_aton('127.0.0.1')))
            or return undef;
        binmode $s;
        return $s;
    }
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
        PeerPort => $o{port} // $self->{port}, Proto => 'tcp',
        Timeout => $o{timeout} // 5);
    binmode $s if $s;
    return $s;
}

sub send_bytes {
    my ($self, $s, $bytes) = @_;
    local $SIG{PIPE} = 'IGNORE';
    if (utf8::is_utf8($bytes)) {
        utf8::downgrade($bytes, 1) or utf8::encode($bytes);
    }
    my $off = 0;
    while ($off < length $bytes) {
        my $n = syswrite($s, $bytes, length($bytes) - $off, $off);
        return 0 unless defined $n;
        $off += $n;
    }
    return 1;
}

# one response from a socket, bounded by timeout (default 10 s)
sub read_response {
    my ($self, $s, %o) = @_;
    my $t0 = time;
    my $timeout = $o{timeout} // $self->{http_timeout};
    my $deadline = $t0 + $timeout;
    my $sel = IO::Select->new($s);
    my $buf = '';
    my $eof = 0;
    while (1) {
        my $r = _http_parse(\$buf, $eof, $o{head});
        if ($r) {
            next if $r->{status} >= 100 && $r->{status} < 200;
            $r->{elapsed} = time - $t0;
            return $r;
        }
        return _res_error(length $buf ? 'incomplete response'
                                      : 'connection closed', $t0, $buf)
            if $eof;
        my $left = $deadline - time;
        return _res_error("timeout after ${timeout}s", $t0, $buf) if $left <= 0;
        next unless $sel->can_read($left > 0.5 ? 0.5 : $left);
        my $n = sysread($s, $buf, 65536, length $buf);
        $eof = 1 unless $n;
    }
}

# a complete HTTP/1.1 request as bytes (same options as request())
sub build_request {
    my ($self, $method, $path, %o) = @_;
    my $port = $o{port} // $self->{port};
    my $body = $o{body};
    $body = json_encode($body) if ref $body;
    my $tok = exists $o{token} ? $o{token} : $self->{token};
    my $req = "$method " . $self->_path($path) . " HTTP/1.1\r\n"
        . "Host: " . ($o{host} // "127.0.0.1:$port") . "\r\n";
    $req .= "Authorization: Bearer $tok\r\n" if defined $tok;
    $req .= "Connection: close\r\n" if $o{close};
    if (defined $body) {
        $req .= "Content-Type: " . ($o{ctype} // 'application/scim+json') . "\r\n"
              . "Content-Length: " . ($o{content_length} // length $body) . "\r\n";
    }
    $req .= "$_: $o{headers}{$_}\r\n" for sort keys %{$o{headers} // {}};
    $req .= "\r\n";
    $req .= $body if defined $body && !$o{headers_only};
    return $req;
}

sub _res_error {
    my ($msg, $t0, $partial) = @_;
    return { status => 599, reason => 'client error', error => $msg,
             headers => {}, content => $partial // '', json => undef,
             elapsed => time - $t0 };
}

# parses one HTTP/1.x response off the front of $$buf; undef if incomplete
sub _http_parse {
    my ($buf, $eof, $head) = @_;
    my $he = index($$buf, "\r\n\r\n");
    return undef if $he < 0;
    my @lines = split /\r\n/, substr($$buf, 0, $he);
    my $sl = shift @lines;
    my ($status, $reason) = $sl =~ m{^HTTP/\d\.\d\s+(\d{3})\s*(.*)$}
        or return { status => 599, error => "bad status line: $sl",
                    headers => {}, content => $$buf };
    my %h;
    for my $l (@lines) {
        my ($k, $v) = $l =~ /^([^:]+):\s*(.*?)\s*$/ or next;
        $k = lc $k;
        $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
    }
    my $pos = $he + 4;
    my $content;
    if ($head || $status == 204 || $status == 304 || $status < 200) {
        $content = '';
    } elsif (($h{'transfer-encoding'} // '') =~ /chunked/i) {
        my $p = $pos;
        $content = '';
        while (1) {
            my $e = index($$buf, "\r\n", $p);
            return undef if $e < 0;
            my ($size) = substr($$buf, $p, $e - $p) =~ /^([0-9a-fA-F]+)/;
            return { status => 599, error => 'bad chunk', headers => \%h,
                     content => $$buf } unless defined $size;
            $size = hex $size;
            $p = $e + 2;
            if ($size == 0) {
                my $te = index($$buf, "\r\n", $p);
                return undef if $te < 0;
                # skip trailers
                while ($te != $p) {
                    $p = $te + 2;
                    $te = index($$buf, "\r\n", $p);
                    return undef if $te < 0;
                }
                $p = $te + 2;
                last;
            }
            return undef if length($$buf) < $p + $size + 2;
            $content .= substr($$buf, $p, $size);
            $p += $size + 2;
        }
        $pos = $p;
        substr($$buf, 0, $pos, '');
        return _res_finish($status, $reason, \%h, $content);
    } elsif (defined $h{'content-length'}) {
        my $len = $h{'content-length'};
        return undef if length($$buf) < $pos + $len;
        $content = substr($$buf, $pos, $len);
        $pos += $len;
    } else {
        return undef unless $eof;
        $content = substr($$buf, $pos);
        $pos = length $$buf;
    }
    substr($$buf, 0, $pos, '');
    return _res_finish($status, $reason, \%h, $content);
}

sub _res_finish {
    my ($status, $reason, $h, $content) = @_;
    my $json;
    if (length $content && $content =~ /^\s*[\[{]/) {
        $json = json_decode($content);
    }
    return { status => $status + 0, reason => $reason, headers => $h,
             content => $content, json => $json };
}


# ---------------------------------------------------------------- forking

# Runs $code->($i) in $n forked children that start together; each
# child's return value (a scalar or a reference, JSON-encodable) comes
# back in an array ref indexed by $i.  Bounded by $o{timeout} (60 s).
sub parallel {
    my ($self, $n, $code, %o) = @_;
    my $timeout = $o{timeout} // 60;
    my $dir = $self->{dir};
    my $run = "par-" . int(rand(1e9));
    pipe(my $go_r, my $go_w) or die "pipe: $!";
    my @pids;
    for my $i (0 .. $n - 1) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;
        if ($pid == 0) {
            alarm($timeout + 5);
            $SIG{ALRM} = sub { POSIX::_exit(3) };
            close $go_w;
            my $x;
            sysread($go_r, $x, 1);     # EOF when the parent says go
            $self->{conn} = {};
            $self->{redis_conn} = {};
            my $r = eval { $code->($i) };
            $r = { died => "$@" } if $@;
            if (open my $fh, '>:raw', "$dir/$run-$i.json") {
                print $fh json_encode({ r => $r });
                close $fh;
            }
            POSIX::_exit(0);
        }
        push @pids, $pid;
    }
    close $go_r;
    sleep 0.2;
    close $go_w;                       # go
    my $deadline = time + $timeout;
    my %left = map { $_ => 1 } @pids;
    while (%left && time < $deadline) {
        for my $p (keys %left) {
            delete $left{$p} if waitpid($p, WNOHANG) != 0;
        }
        sleep 0.02 if %left;
    }
    for my $p (keys %left) { kill 'KILL', $p; waitpid($p, 0) }
    my @out;
    for my $i (0 .. $n - 1) {
        my $c = $self->read_file("$run-$i.json");
        my $d = defined $c ? json_decode($c) : undef;
        $out[$i] = $d ? $d->{r} : undef;
        unlink "$dir/$run-$i.json";
    }
    return \@out;
}


# ---------------------------------------------------------------- cleanup

sub cleanup {
    my ($self) = @_;
    return unless $self->{owner} == $$;
    if (my $pid = $self->{nginx_pid}) {
        my @kids = _children_of($pid);
        kill 'QUIT', $pid;
        unless (_wait_child($pid, 5)) {
            kill 'KILL', $pid;
            _wait_child($pid, 2);
        }
        for my $k (@kids) { kill 'KILL', $k if _alive($k) }
        delete $self->{nginx_pid};
    }
    if (my $pid = $self->{redis_pid}) {
        kill 'CONT', $pid;
        kill 'TERM', $pid;
        unless (_wait_child($pid, 5)) {
            kill 'KILL', $pid;
            _wait_child($pid, 2);
        }
        delete $self->{redis_pid};
    }
    $self->{cluster}->stop if $self->{cluster};
}

# $t->delete(...) as a method, without shadowing CORE::delete here
{
    no strict 'refs';
    *{'ScimTest::delete'} = \&del;
}

END {
    my $rc = $?;
    for my $t (@INSTANCES) {
        next unless $t->{owner} == $$;
        $t->cleanup;
        if ($ENV{SCIM_TEST_KEEP}) {
            Test::More::diag("kept temp dir $t->{dir}");
        }
    }
    $? = $rc;
}

1;
