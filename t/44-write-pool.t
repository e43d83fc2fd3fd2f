#!/usr/bin/perl

# jansson's memory of a write request comes from the request's pool
# (issue 13, http/ngx_http_scim_alloc.c): every kind of write (POST, PUT,
# PATCH, DELETE of users and groups; a password hashed in a thread; a
# conflict retried after a timer; bad input answered from inside a step;
# a group read after its write; Bulk, which keeps malloc) runs on one
# keep-alive connection, between reads, discovery (the schema registry,
# made at configuration time) and a reload (which frees the old
# configuration's JSON).  What this catches:
#   - a pool left current past a step: the module's check on the next
#     entry from the event loop logs an [alert], which fails the file
#     ($t->finish);
#   - a pool block kept past its request (in a cache, the registry, the
#     configuration) or freed with free(): under make test-asan a
#     use-after-free or a bad free, which fails the file; without ASan a
#     crashed worker;
#   - memory that grows with the writes: the worker's RSS after 3,000
#     writes of ~1 KB.
# The answers must be those of the stored documents (GET gives back what
# the write answered).

use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Test::More;
use ScimTest;

my $t = ScimTest->new(workers => 1);

use constant URN_BULK_REQ => 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';

$t->write_config($t->standard_conf(
    extra => "        scim_password_thread_pool scim;\n"),
    main => 'thread_pool scim threads=2;');
$t->start_nginx_ok;

# a worker with the ASan runtime (make test-asan): its freed memory waits
# in a quarantine (256 MB) and counts as the worker's
sub asan {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/maps" or return 0;
    while (<$fh>) { return 1 if /libclang_rt\.asan|libasan/ }
    return 0;
}

sub rss_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
    return 0;
}

# the answer of a write and a GET of the resource agree (meta.version,
# every attribute)
sub same_as_stored {
    my ($r, $type, $name) = @_;
    my $id = $r->{json} && $r->{json}{id};
    my $g = $t->get("$type/" . ($id // 'none'));
    is_deeply($g->{json}, $r->{json}, "$name: GET gives back the answer");
}

# every kind of write, once
sub writes {
    my ($tag) = @_;

    my $u = $t->post('Users', entra_user());
    is($u->{status}, 201, "$tag: POST user") or diag($u->{content});
    same_as_stored($u, 'Users', "$tag: POST user");
    my $id = $u->{json}{id};

    my $r = $t->patch_ops($id,
        { op => 'replace', path => 'title', value => 'Keeper' },
        { op => 'add', path => 'emails', value => [
            { type => 'home', value => "h-$tag\@example.com" },
            { type => 'other', value => "o-$tag\@example.com" } ] },
        { op => 'add', path => 'phoneNumbers', value => [
            { type => 'mobile', value => '+1 555 0100' } ] },
        { op => 'remove', path => 'emails[type eq "other"]' });
    is($r->{status}, 200, "$tag: PATCH user (replace, add and remove "
       . "multi-valued)") or diag($r->{content});
    same_as_stored($r, 'Users', "$tag: PATCH user");

    $r = $t->patch_ops($id, { op => 'replace', path => 'no such[[', value => 1 });
    is_scim_error($r, 400, undef, "$tag: a bad PATCH path, answered from the step");

    $r = $t->post('Users', '{"schemas": [', );
    is_scim_error($r, 400, 'invalidSyntax', "$tag: bad JSON, answered from the parse");

    my $body = entra_user();
    $body->{password} = "pw-$tag-" . int(rand(1e9));
    $r = $t->post('Users', $body);
    is($r->{status}, 201, "$tag: POST user with a password (hashed in a thread)");
    same_as_stored($r, 'Users', "$tag: POST with a password");
    my $pid = $r->{json}{id};

    $body = entra_user(userName => $u->{json}{userName});
    $body->{displayName} = "Put $tag";
    $r = $t->put("Users/$id", $body);
    is($r->{status}, 200, "$tag: PUT user") or diag($r->{content});
    same_as_stored($r, 'Users', "$tag: PUT user");

    $r = $t->patch_ops($id, { op => 'replace', path => 'title', value => 'x' });
    my $old = $r->{headers}{etag};
    $t->patch_ops($id, { op => 'replace', path => 'title', value => 'y' });
    $r = $t->patch("Users/$id",
        patch_body({ op => 'replace', path => 'title', value => 'z' }),
        headers => { 'If-Match' => $old });
    is($r->{status}, 412, "$tag: PATCH with a stale If-Match: 412");

    my $g = $t->post('Groups', { schemas => [URN_GROUP],
        displayName => "pool-$tag-" . int(rand(1e9)),
        members => [ { value => $id }, { value => $pid } ] });
    is($g->{status}, 201, "$tag: POST group with members (read after "
       . "the write)") or diag($g->{content});
    my $gid = $g->{json}{id};
    is(scalar @{$g->{json}{members} // []}, 2, "$tag: its members");

    $r = $t->patch("Groups/$gid", patch_body(
        { op => 'remove', path => "members[value eq \"$pid\"]" }));
    is($r->{status}, 204, "$tag: PATCH group members only");

    $r = $t->patch("Groups/$gid?attributes=members", patch_body(
        { op => 'replace', path => 'displayName', value => "renamed-$tag-"
          . int(rand(1e9)) }));
    is($r->{status}, 200, "$tag: PATCH group with attributes (read after "
       . "the write)") or diag($r->{content});

    $r = $t->post('Bulk', { schemas => [URN_BULK_REQ], Operations => [
        map { { method => 'POST', path => '/Users', bulkId => "b$_",
                data => entra_user() } } 1 .. 3 ] });
    is($r->{status}, 200, "$tag: Bulk of 3 POSTs (malloc)");

    for my $p ("Users/$pid", "Groups/$gid") {
        $r = $t->del($p);
        is($r->{status}, 204, "$tag: DELETE $p");
    }

    # what the registry made at configuration time
    for my $p ('Schemas', 'ResourceTypes', 'ServiceProviderConfig') {
        $r = $t->get($p);
        is($r->{status}, 200, "$tag: GET $p");
    }

    $r = $t->list(filter => "userName eq \"$u->{json}{userName}\"");
    is($r->{json}{totalResults}, 1, "$tag: a filter finds the user");

    return $id;
}

writes('first');

# conflicting PATCHes on one user: retries, some after a backoff timer
{
    my $u = $t->post('Users', entra_user());
    my $id = $u->{json}{id};
    my $res = $t->parallel(6, sub {
        my ($i) = @_;
        my $ok = 0;
        for my $k (1 .. 15) {
            my $r = $t->patch_ops($id, { op => 'add', path => 'emails',
                value => [ { type => 'other', value => "p$i-$k\@example.com" } ] });
            $ok++ if $r->{status} == 200;
        }
        return $ok;
    });
    my $ok = 0;
    $ok += $_ // 0 for @$res;
    is($ok, 90, 'every one of 90 racing PATCHes succeeded (retries)');
    my $g = $t->get("Users/$id");
    is(scalar @{$g->{json}{emails}}, 91, 'and the user has every e-mail');
}

# a reload frees the old configuration's JSON (the registry)
ok($t->reload(wait_old => 1), 'reload (the old worker gone)');
writes('after reload');

# memory: 3,000 writes of ~1 KB on one connection
{
    my ($w) = $t->worker_pids;
    my $id = $t->post('Users', entra_user())->{json}{id};
    for (1 .. 200) { $t->patch_ops($id, { op => 'replace', path => 'title', value => "t$_" }) }
    my $rss0 = rss_kb($w);
    my $bad = 0;
    for my $i (1 .. 1500) {
        my $r = $t->post('Users', entra_user());
        $bad++ unless $r->{status} == 201;
        $r = $t->patch_ops($id, { op => 'replace', path => 'title', value => "t$i" });
        $bad++ unless $r->{status} == 200;
    }
    my $rss1 = rss_kb($w);
    is($bad, 0, '3,000 writes answered');
    diag(sprintf('worker RSS: %.1f MiB before, %.1f MiB after', $rss0 / 1024,
                 $rss1 / 1024));
    SKIP: {
        skip 'ASan keeps freed memory in its quarantine', 1 if asan($w);
        ok($rss0 > 0 && $rss1 - $rss0 < 12 * 1024,
           sprintf('worker RSS grew by %.1f MiB (< 12 MiB) over 3,000 writes',
                   ($rss1 - $rss0) / 1024));
    }
}

unlike($t->error_log, qr/left current for jansson/,
       'no request pool was left current');

$t->finish;
