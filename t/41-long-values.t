#!/usr/bin/perl

# Long ids, references and base URLs (issue 7, defect 1).
#
# The fast read path (scim_fast.c) once copied base URL + "/Users/" + the
# enterprise manager's value into a fixed 1024-byte buffer: a user whose
# manager was 1,000+ characters of [A-Za-z0-9-] was stored, and every read
# of it (GET, a userName filter) killed the worker.  Here:
#  - such managers, in each form a client may send (a string, {"value"},
#    [{"value"}], JSON in a string), by POST, PUT, PATCH and Bulk, and
#    such group members (POST, PATCH add), are refused with 400
#    invalidValue: ids and references have at most SCIM_MAX_ID_LEN (256)
#    bytes; a value of exactly 256 is taken and read back;
#  - very long base URLs (scim_base_url, a long Host header) and long
#    group names are written whole into meta.location and every "$ref";
#  - documents stored before the limit with longer values (written into
#    Redis here as the module stores them) are still served, whole, by
#    GET and by filters; a PATCH that replaces the long manager works;
#  - an id in a URL path longer than any id is 404;
#  - no worker dies (the same worker pids at the end, no "exited on
#    signal" in error.log).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $MAX = 256;      # SCIM_MAX_ID_LEN in ngx_http_scim_module/core/scim_core.h

my $t = ScimTest->new(workers => 2);
my $port = $t->port;

my $LONG_BASE = 'https://' . ('b' x 1500) . '.example.com/' . ('p' x 1500)
    . '/scim/v2';

$t->write_config($t->standard_conf(server_extra => <<"EOF"));
    location /long/scim/v2/ {
        scim;
        scim_redis %%REDIS%%;
        scim_tenant acme;
        scim_bearer_token_file %%TOKEN_FILE%%;
        scim_base_url "$LONG_BASE";
    }
EOF
$t->start_nginx_ok;

my @pids = sort { $a <=> $b } $t->worker_pids;
my $base = "http://127.0.0.1:$port/scim/v2";

# n characters of [A-Za-z0-9-], different per seed
my @ALNUM = ('A' .. 'Z', 'a' .. 'z', '0' .. '9', '-');
sub ref_id {
    my ($n, $seed) = @_;
    return join '', map { $ALNUM[($_ * 7 + $seed * 13) % @ALNUM] } 1 .. $n;
}

sub ent { $_[0]{json}{+URN_ENT} // {} }

# a manager must be a user of the tenant (issue 11): ids no POST hands
# out (of any length) made users as Redis knows them, as if an earlier
# build or an import had written them
sub boss {
    my ($id) = @_;
    $t->redis_cmd('HSET', 'scim:{acme}:User:display', $id, "Boss $id");
}

sub user_body {
    my ($name, $manager) = @_;
    my %u = (schemas => [URN_USER, URN_ENT], userName => $name,
             displayName => "D $name");
    $u{+URN_ENT} = { department => 'Ops', manager => $manager }
        if defined $manager;
    return \%u;
}

# a ListResponse of 0 users for userName eq $name, also by a scan
sub none_stored {
    my ($name, $what) = @_;
    is_list_response($t->list(filter => qq{userName eq "$name"}), 0, 0,
                     "$what: nothing stored (userName eq)");
    is_list_response($t->list(filter => qq{displayName eq "D $name"}), 0, 0,
                     "$what: nothing stored (scan)");
}

# ------------------------------------------- the crash: refused at entry

my %forms = (
    string     => sub { $_[0] },
    object     => sub { { value => $_[0] } },
    array      => sub { [ { value => $_[0], '$ref' => "../Users/$_[0]" } ] },
    json       => sub { json_encode({ value => $_[0] }) },
);

my $seed = 0;
for my $len (1000, 1100, 5000) {
    for my $form (sort keys %forms) {
        my $v = ref_id($len, ++$seed);
        my $name = "long-$len-$form\@example.com";
        my $r = $t->post('Users', user_body($name, $forms{$form}->($v)));
        is_scim_error($r, 400, 'invalidValue',
                      "POST, manager of $len ($form): 400 invalidValue");
        like($r->{json}{detail} // '', qr/manager\.value" is longer than $MAX/,
             "... the detail names the attribute and the limit");

        # had it been stored, these reads would have killed the worker
        if (($r->{status} // 0) == 201) {
            is_scim_json($t->get("Users/$r->{json}{id}"), 200,
                         "... GET of what was stored");
        }
        none_stored($name, "manager of $len ($form)");
    }
}

my $m1 = $t->create_user('m1@example.com')->{json}{id} // 'none';
my $r = $t->create_user(user_body('victim@example.com', $m1));
is($r->{status}, 201, 'a user to change');
my $vid = $r->{json}{id} // 'none';
my $long = ref_id(5000, 99);

is_scim_error($t->put("Users/$vid", user_body('victim@example.com', $long)),
              400, 'invalidValue', 'PUT with a manager of 5000: 400');
is_scim_error($t->patch_ops($vid, { op => 'replace',
                                    path => URN_ENT . ':manager',
                                    value => $long }),
              400, 'invalidValue', 'PATCH replace manager (path): 400');
is_scim_error($t->patch_ops($vid, { op => 'add',
                                    value => { URN_ENT . ':manager'
                                               => { value => $long } } }),
              400, 'invalidValue', 'PATCH add manager (no path): 400');
is_scim_error($t->patch_ops($vid, { op => 'replace',
                                    path => URN_ENT . ':manager.value',
                                    value => $long }),
              400, 'invalidValue', 'PATCH replace manager.value: 400');

$r = $t->get("Users/$vid");
is_scim_json($r, 200, 'the user is still there');
is(ent($r)->{manager}{value}, $m1, '... with its manager unchanged');

$r = $t->post('Bulk', {
    schemas => ['urn:ietf:params:scim:api:messages:2.0:BulkRequest'],
    Operations => [ { method => 'POST', path => '/Users', bulkId => 'b1',
                      data => user_body('bulk-long@example.com',
                                        { value => $long }) } ] });
is($r->{status}, 200, 'Bulk: 200');
is($r->{json}{Operations}[0]{status}, '400', '... its POST with a manager '
   . 'of 5000: 400');
is($r->{json}{Operations}[0]{response}{scimType}, 'invalidValue',
   '... invalidValue');
none_stored('bulk-long@example.com', 'Bulk');

# group members: references too

$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'long-m',
                          members => [ { value => $long } ] });
is_scim_error($r, 400, 'invalidValue', 'POST group, member of 5000: 400');
like($r->{json}{detail} // '', qr/members\.value" is longer than $MAX/,
     '... the detail names the attribute and the limit');

$r = $t->post('Groups', { schemas => [URN_GROUP], displayName => 'short-m',
                          members => [ { value => $vid } ] });
is($r->{status}, 201, 'a group with one member');
my $gid = $r->{json}{id} // 'none';

$r = $t->patch("Groups/$gid", patch_body({ op => 'add', path => 'members',
                                           value => [ { value => $long } ] }));
is_scim_error($r, 400, 'invalidValue', 'PATCH group add member of 5000: 400');
my $long1000 = ref_id(1000, 98);
for my $op ({ op => 'remove', path => qq{members[value eq "$long1000"]} },
            { op => 'remove', path => 'members',
              value => [ { value => $long } ] })
{
    $r = $t->patch("Groups/$gid", patch_body($op));
    ok(($r->{status} // 0) == 200 || ($r->{status} // 0) == 204,
       "PATCH group $op->{op} $op->{path} (long value): taken, one may be "
       . 'stored from before') or diag explain $r->{json};
}

# ------------------------------------------------- at the limit: served

my $edge = ref_id($MAX, 7);
my $name = 'edge@example.com';
boss($edge);
$r = $t->post('Users', user_body($name, { value => $edge }));
is_scim_json($r, 201, "POST, manager of exactly $MAX: 201");
my $eid = $r->{json}{id} // 'none';
is(ent($r)->{manager}{value}, $edge, '... manager.value whole');
is(ent($r)->{manager}{'$ref'}, "$base/Users/$edge", '... and its $ref');

is_scim_error($t->put("Users/$eid", user_body($name, ref_id($MAX + 1, 7))),
              400, 'invalidValue', 'PUT, manager of ' . ($MAX + 1) . ': 400');

# two groups with long names (escapes, UTF-8): the answer is longer than
# the first buffer the fast path tries

my @gnames = ("G \"quoted\" \\ " . ('x' x 4000),
              "Gr\x{fc}ppe \x{4e16}\x{754c} " . ('y' x 4000));
my @gids;
for my $gn (@gnames) {
    $r = $t->post('Groups', { schemas => [URN_GROUP], displayName => $gn,
                              members => [ { value => $eid } ] });
    is($r->{status}, 201, 'a group with a long name');
    push @gids, $r->{json}{id} // 'none';
}

sub check_user {
    my ($r, $b, $id, $mgr, $what) = @_;
    is_scim_json($r, 200, "$what: 200");
    my $u = $r->{json} // {};
    $u = $u->{Resources}[0] // {} if $u->{Resources};
    is($u->{id}, $id, "$what: id");
    is($u->{meta}{location}, "$b/Users/$id", "$what: meta.location whole");
    is(ent({ json => $u })->{manager}{value}, $mgr, "$what: manager.value");
    is(ent({ json => $u })->{manager}{'$ref'}, "$b/Users/$mgr",
       "$what: manager \$ref whole");
    return $u;
}

sub check_groups {
    my ($u, $b, $want, $what) = @_;
    my %got = map { ($_->{value} // '') => $_ } @{ $u->{groups} // [] };
    is(scalar keys %got, scalar keys %$want, "$what: groups");
    for my $g (sort keys %$want) {
        is($got{$g}{'$ref'}, "$b/Groups/$g", "$what: group \$ref whole");
        is($got{$g}{display}, $want->{$g}, "$what: group display whole");
    }
}

my %want_groups = map { ($gids[$_] => $gnames[$_]) } 0 .. 1;

for my $via (['', $base], ['/long/scim/v2/', $LONG_BASE]) {
    my ($prefix, $b) = @$via;
    my $where = $prefix ? 'long scim_base_url' : 'standard base';

    my $u = check_user($t->get("${prefix}Users/$eid"), $b, $eid, $edge,
                       "GET ($where)");
    check_groups($u, $b, \%want_groups, "GET ($where)");
    is($t->get("${prefix}Users/$eid")->{headers}{etag}, $u->{meta}{version},
       "GET ($where): ETag");

    my $q = qs(filter => qq{userName eq "$name"});
    $u = check_user($t->get("${prefix}Users?$q"), $b, $eid, $edge,
                    "userName eq ($where)");
    check_groups($u, $b, \%want_groups, "userName eq ($where)");

    $q = qs(filter => qq{displayName eq "D $name"});
    $u = check_user($t->get("${prefix}Users?$q"), $b, $eid, $edge,
                    "scan ($where)");
    check_groups($u, $b, \%want_groups, "scan ($where)");
}

# a long Host header: the base URL built from it

my $host = ('h' x 4000) . ".example.com:$port";
check_user($t->get("Users/$eid", host => $host), "http://$host/scim/v2",
           $eid, $edge, 'long Host');

# a write answered from the text it stored (PATCH of the title)

$r = $t->patch_ops($eid, { op => 'replace', path => 'title',
                           value => 't' x 3000 });
my $u = check_user($r, $base, $eid, $edge, 'PATCH answer');
check_groups($u, $base, \%want_groups, 'PATCH answer');
is($u->{title}, 't' x 3000, 'PATCH answer: title');

# ------------------------------------- stored before the limit: served

my $lname = 'legacy@example.com';
boss($_) for 'short-manager', 'new-manager';
$r = $t->create_user(user_body($lname, 'short-manager'));
my $lid = $r->{json}{id} // 'none';
my $docs = 'scim:{acme}:User:docs';
my $text = $t->redis_cmd('HGET', $docs, $lid) // '';
like($text, qr/"manager":\{"value":"short-manager"\}/,
     'the stored form of a manager, as the fast path expects it');

my $lmgr = ref_id(5000, 11);
my $lgid = ref_id(5000, 12);
(my $ltext = $text) =~ s/"short-manager"/"$lmgr"/;
$t->redis_cmd('HSET', $docs, $lid, $ltext);
$t->redis_cmd('HSET', 'scim:{acme}:User:manager', $lid, $lmgr);
$t->redis_cmd('ZADD', 'scim:{acme}:memberof', 0, "$lid\0$lgid");
$t->redis_cmd('HSET', 'scim:{acme}:Group:display', $lgid, 'Legacy group');

for my $via (['', $base], ['/long/scim/v2/', $LONG_BASE]) {
    my ($prefix, $b) = @$via;
    my $where = $prefix ? 'long scim_base_url' : 'standard base';

    $u = check_user($t->get("${prefix}Users/$lid"), $b, $lid, $lmgr,
                    "legacy manager of 5000, GET ($where)");
    check_groups($u, $b, { $lgid => 'Legacy group' },
                 "legacy group id of 5000, GET ($where)");

    my $q = qs(filter => qq{userName eq "$lname"});
    $u = check_user($t->get("${prefix}Users?$q"), $b, $lid, $lmgr,
                    "legacy, userName eq ($where)");
    check_groups($u, $b, { $lgid => 'Legacy group' },
                 "legacy, userName eq ($where)");

    $q = qs(filter => qq{displayName eq "D $lname"});
    check_user($t->get("${prefix}Users?$q"), $b, $lid, $lmgr,
               "legacy, scan ($where)");
}

is_scim_error($t->patch_ops($lid, { op => 'replace', path => 'title',
                                    value => 'x' }),
              400, 'invalidValue',
              'legacy: a PATCH that keeps the long manager is refused');
$r = $t->patch_ops($lid, { op => 'replace', path => URN_ENT . ':manager',
                           value => 'new-manager' });
is_scim_json($r, 200, 'legacy: a PATCH that replaces the manager: 200');
is(ent($r)->{manager}{value}, 'new-manager', '... the new manager');

# a document with an id longer than any id (not reachable by its URL)

my $lid2 = ref_id(300, 13);
my $lname2 = 'legacy-id@example.com';
(my $ltext2 = $text) =~ s/"id":"\Q$lid\E"/"id":"$lid2"/;
$ltext2 =~ s/"userName":"[^"]*"/"userName":"$lname2"/;
$ltext2 =~ s/"displayName":"[^"]*"/"displayName":"D $lname2"/;
$t->redis_cmd('HSET', "scim:{acme}:User:docs", $lid2, $ltext2);
$t->redis_cmd('HSET', 'scim:{acme}:User:idx:userName', $lname2, $lid2);
$t->redis_cmd('ZADD', 'scim:{acme}:User:ids', 1e9, $lid2);

check_user($t->list(filter => qq{userName eq "$lname2"}), $base, $lid2,
           'short-manager', 'legacy id of 300, userName eq');
check_user($t->list(filter => qq{displayName eq "D $lname2"}), $base, $lid2,
           'short-manager', 'legacy id of 300, scan');

# --------------------------------------------------------- ids in paths

for my $id (ref_id(300, 14), ref_id(5000, 15), $lid2) {
    for my $m (qw(GET PUT PATCH DELETE)) {
        my $body = $m eq 'PUT' ? user_body('x@example.com')
                 : $m eq 'PATCH' ? patch_body({ op => 'replace',
                                               path => 'title',
                                               value => 'x' })
                 : undef;
        is_scim_error($t->request($m, "Users/$id", body => $body), 404, '',
                      "$m /Users/<" . length($id) . " characters>: 404");
    }
}

# ------------------------------------------- If-Match: a list of any length

$r = $t->get("Users/$eid");
my $ver = $r->{json}{meta}{version} // 'none';
(my $num = $ver) =~ s/\D//g;
my @tags = map { qq{W/"} . ($num + 1000 + $_) . '"' } 1 .. 40;
$r = $t->request('PATCH', "Users/$eid",
                 body => patch_body({ op => 'replace', path => 'title',
                                      value => 'z' }),
                 headers => { 'If-Match' => join(', ', @tags, $ver) });
is_scim_json($r, 200, 'If-Match: the current version 41st in the list: 200');
is($r->{json}{title}, 'z', '... the PATCH applied');
$r = $t->request('PATCH', "Users/$eid",
                 body => patch_body({ op => 'replace', path => 'title',
                                      value => 'w' }),
                 headers => { 'If-Match' => join(', ', @tags) });
is_scim_error($r, 412, undef, 'If-Match: 40 other versions: 412');

# ----------------------------------- a base URL that JSON cannot carry
# (nginx itself refuses a %00 in a path, before any location)

for my $path ('/scim/v2/%FF/Users', "/scim/v2/%C3/Users/$eid")
{
    is_scim_error($t->get($path), 400, 'invalidValue',
                  "GET $path: 400 (the base URL is no UTF-8 string)");
}
# nginx 1.29.4 and later refuse a Host outside RFC 3986's characters
# themselves, while reading the headers: before any location, with their
# own page; the module never sees the request
my @ngx_v = `'$t->{nginx}' -v 2>&1` =~ m{nginx/(\d+)\.(\d+)\.(\d+)};
if (@ngx_v && $ngx_v[0] * 1000000 + $ngx_v[1] * 1000 + $ngx_v[2] >= 1029004) {
    is($t->get("Users/$eid", host => "h\xffh.example.com")->{status}, 400,
       'a Host that is not UTF-8: 400 (from nginx >= 1.29.4 itself)');
} else {
    is_scim_error($t->get("Users/$eid", host => "h\xffh.example.com"), 400,
                  'invalidValue', 'a Host that is not UTF-8: 400');
}

# ------------------------------------------------------ nobody crashed

is_deeply([ sort { $a <=> $b } $t->worker_pids ], \@pids,
          'the same workers as at the start');
unlike($t->error_log, qr/exited on signal|AddressSanitizer|runtime error:/,
       'error.log: no worker died');

$t->finish;
