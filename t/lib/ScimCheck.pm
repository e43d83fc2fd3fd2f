package ScimCheck;

# The consistency of one tenant's data in Redis (layout 3, README "Redis
# data model"), read through a ScimTest object: on one redis-server or on
# a Redis Cluster alike ($t->redis_cmd routes by slot there).
#
#   use ScimCheck;
#   my ($problems, $stats) = ScimCheck::check_tenant($t, $tenant,
#       get => sub { my ($path) = @_; $t->get($path, ...) });
#   is_deeply($problems, [], "tenant $tenant is consistent");
#
# $problems: one line a problem found (empty: consistent); $stats:
# {users, groups, memberships, emails}.  What it checks:
#   - the tenant has no key but the sixteen of layout 3;
#   - for Users and Groups: the ids zset and the docs hash hold the same
#     ids; each document is JSON with that id, ends with its version,
#     and a group's holds no members;
#   - the indexes map exactly the stored documents: idx:userName (Users)
#     and idx:displayName (Groups) one entry a document, a key with no
#     ASCII capital that folds (Perl's fc) as the document's name does;
#     idx:externalId exactly "<externalId>\0<id>" for every document
#     with one (not unique: any number of ids a value); idx:email
#     exactly "<folded address>\0<id>" for every address of every user;
#     User:display and Group:display one entry an id, with the display
#     name (a user's displayName, else its userName); User:manager only
#     for users that exist, with the manager of the document;
#     User:reports exactly "<manager>\0<user>" for each entry of
#     User:manager, score 0; no manager is a user that does not exist;
#   - members and memberof are mirror images, score 0, every group in
#     them exists, every member is a user or a group that exists;
#   - with get (a sub that GETs a path under the tenant's base, e.g.
#     "Groups/<id>", and returns ScimTest's response): every group as
#     the API shows it has exactly the members of the zset, and
#     totalResults of /Users and /Groups are the sizes of the ids zsets.

use strict;
use warnings;
use feature 'fc';

use ScimTest;

my @KEYS = qw(User:display Group:display User:manager User:idx:email
              User:docs Group:docs User:ids Group:ids seq
              User:idx:userName User:idx:externalId
              Group:idx:displayName Group:idx:externalId members memberof
              User:reports events auth:tokens auth:clients);

# Redis gives bytes, json_decode characters: a stored name as characters
sub _chars {
    my $s = shift;
    utf8::decode($s);
    return $s;
}

sub _hash {
    my ($t, $k) = @_;
    my $r = $t->redis_cmd({ timeout => 60 }, 'HGETALL', $k);
    return { @{ ref $r eq 'ARRAY' ? $r : [] } };
}

sub _zset {
    my ($t, $k) = @_;
    my $r = $t->redis_cmd({ timeout => 60 }, 'ZRANGE', $k, 0, -1,
                          'WITHSCORES');
    return { @{ ref $r eq 'ARRAY' ? $r : [] } };
}

sub _same_keys {
    my ($p, $what, $a, $b, $an, $bn) = @_;
    for my $k (sort keys %$a) {
        push @$p, "$what: $k in $an, not in $bn" unless exists $b->{$k};
    }
    for my $k (sort keys %$b) {
        push @$p, "$what: $k in $bn, not in $an" unless exists $a->{$k};
    }
}

# a name index (folded name -> id) against the documents' names
sub _name_index {
    my ($p, $what, $idx, $docs, $attr) = @_;
    my %want;
    for my $id (sort keys %$docs) {
        my $name = $docs->{$id}{$attr};
        unless (defined $name && !ref $name) {
            push @$p, "$what: document $id has no $attr";
            next;
        }
        $want{fc $name} = $id;
    }
    my %seen;
    for my $k (sort keys %$idx) {
        my $id = $idx->{$k};
        if ($k =~ /[A-Z]/) {
            push @$p, "$what: key \"$k\" is not folded";
        }
        if (!exists $docs->{$id}) {
            push @$p, "$what: \"$k\" -> $id, no such document";
            next;
        }
        if (($want{fc _chars($k)} // '') ne $id) {
            push @$p, "$what: \"$k\" -> $id, whose $attr is \""
                . ($docs->{$id}{$attr} // '') . '"';
        }
        push @$p, "$what: $id indexed twice" if $seen{$id}++;
    }
    for my $id (sort keys %$docs) {
        push @$p, "$what: document $id not indexed" unless $seen{$id};
    }
}

# a zset (layout 3) of "<externalId>\0<id>", score 0: exactly one entry
# a document with an externalId (the id after the last NUL: ids hold
# none, an externalId may)
sub _ext_index {
    my ($p, $what, $idx, $docs) = @_;
    my %want;
    for my $id (keys %$docs) {
        my $e = $docs->{$id}{externalId};
        $want{"$e\0$id"} = 1 if defined $e && !ref $e && $e ne '';
    }
    for my $m (sort keys %$idx) {
        my $i = rindex($m, "\0");
        if ($i < 0) {
            push @$p, "$what: \"$m\" is not <externalId>\\0<id>";
            next;
        }
        my ($e, $id) = (substr($m, 0, $i), substr($m, $i + 1));
        push @$p, "$what: score $idx->{$m} for \"$e\" of $id"
            if $idx->{$m} != 0;
        push @$p, "$what: \"$e\" -> $id, expected "
            . (exists $docs->{$id}
               ? '"' . ($docs->{$id}{externalId} // 'none') . '"'
               : 'no entry: no such document')
            unless $want{$m};
    }
    for my $k (sort keys %want) {
        my ($e, $id) = $k =~ /^(.*)\0([^\0]*)$/s;
        push @$p, "$what: \"$e\" of $id missing" unless exists $idx->{$k};
    }
}

sub _docs {
    my ($p, $type, $raw, $ids) = @_;
    my %docs;
    _same_keys($p, "$type ids", $ids, $raw, "$type:ids", "$type:docs");
    for my $id (sort keys %$raw) {
        my $text = $raw->{$id};
        push @$p, "$type $id: the stored document does not end with its "
            . 'version' unless $text =~ /"version":"W\/\\"\d+\\""}}$/;
        my $d = json_decode($text);
        unless (ref $d eq 'HASH') {
            push @$p, "$type $id: the stored document is not JSON";
            next;
        }
        push @$p, "$type $id: the document says id "
            . ($d->{id} // 'none') unless ($d->{id} // '') eq $id;
        push @$p, "$type $id: members in the stored document"
            if $type eq 'Group' && exists $d->{members};
        $docs{$id} = $d;
    }
    return \%docs;
}

sub check_tenant {
    my ($t, $tenant, %o) = @_;
    my $P = "scim:{$tenant}:";
    my (@p, %st);

    my %known = map { ("$P$_" => 1) } @KEYS;
    for my $k ($t->redis_keys("$P*")) {
        push @p, "key $k is not one of layout 3" unless $known{$k};
    }

    my $users = _docs(\@p, 'User', _hash($t, "${P}User:docs"),
                      _zset($t, "${P}User:ids"));
    my $groups = _docs(\@p, 'Group', _hash($t, "${P}Group:docs"),
                       _zset($t, "${P}Group:ids"));
    $st{users} = keys %$users;
    $st{groups} = keys %$groups;

    _name_index(\@p, 'User:idx:userName', _hash($t, "${P}User:idx:userName"),
                $users, 'userName');
    _name_index(\@p, 'Group:idx:displayName',
                _hash($t, "${P}Group:idx:displayName"), $groups,
                'displayName');
    _ext_index(\@p, 'User:idx:externalId',
               _zset($t, "${P}User:idx:externalId"), $users);
    _ext_index(\@p, 'Group:idx:externalId',
               _zset($t, "${P}Group:idx:externalId"), $groups);

    # e-mails: a set of (folded address, id)
    my (%want, %have);
    for my $id (keys %$users) {
        for my $e (@{ ref $users->{$id}{emails} eq 'ARRAY'
                      ? $users->{$id}{emails} : [] })
        {
            next unless ref $e eq 'HASH' && defined $e->{value};
            $want{fc($e->{value}) . "\0$id"} = 1;
        }
    }
    my $em = _zset($t, "${P}User:idx:email");
    for my $m (sort keys %$em) {
        my ($addr, $id) = $m =~ /^(.*)\0([^\0]*)$/s;
        unless (defined $id) {
            push @p, "User:idx:email: \"$m\" is not <address>\\0<id>";
            next;
        }
        push @p, "User:idx:email: \"$addr\" is not folded" if $addr =~ /[A-Z]/;
        push @p, "User:idx:email: score $em->{$m} for $addr of $id"
            if $em->{$m} != 0;
        my $k = fc($addr) . "\0$id";
        push @p, "User:idx:email: $addr -> $id, not an address of a user"
            unless $want{$k};
        $have{$k} = 1;
    }
    for my $k (sort keys %want) {
        my ($addr, $id) = split /\0/, $k;
        push @p, "User:idx:email: $addr of $id missing" unless $have{$k};
    }
    $st{emails} = keys %$em;

    # display names
    my $ud = _hash($t, "${P}User:display");
    _same_keys(\@p, 'User:display', $ud, $users, 'User:display', 'User:docs');
    for my $id (sort grep { exists $users->{$_} } keys %$ud) {
        my $d = $users->{$id};
        my $want = defined $d->{displayName} && !ref $d->{displayName}
                   && $d->{displayName} ne '' ? $d->{displayName}
                                              : $d->{userName} // '';
        push @p, "User:display $id: \"$ud->{$id}\", the document says "
            . "\"$want\"" unless _chars($ud->{$id}) eq $want;
    }
    my $gd = _hash($t, "${P}Group:display");
    _same_keys(\@p, 'Group:display', $gd, $groups, 'Group:display',
               'Group:docs');
    for my $id (sort grep { exists $groups->{$_} } keys %$gd) {
        my $want = $groups->{$id}{displayName} // '';
        push @p, "Group:display $id: \"$gd->{$id}\", the document says "
            . "\"$want\"" unless _chars($gd->{$id}) eq $want;
    }

    # managers: only users that exist, the manager of the document
    my $mg = _hash($t, "${P}User:manager");
    for my $id (sort keys %$mg) {
        my $d = $users->{$id};
        unless ($d) {
            push @p, "User:manager: $id is no user";
            next;
        }
        my $ent = $d->{+URN_ENT};
        my $m = ref $ent eq 'HASH' && ref $ent->{manager} eq 'HASH'
                ? $ent->{manager}{value} : undef;
        push @p, "User:manager $id: $mg->{$id}, the document says "
            . ($m // 'none') unless ($m // '') eq $mg->{$id};
        push @p, "User:manager $id: its manager $mg->{$id} is no user"
            unless $users->{ $mg->{$id} };
    }
    for my $id (sort keys %$users) {
        my $ent = $users->{$id}{+URN_ENT};
        my $m = ref $ent eq 'HASH' && ref $ent->{manager} eq 'HASH'
                ? $ent->{manager}{value} : undef;
        push @p, "User $id: manager $m in the document, not in User:manager"
            if defined $m && !defined $mg->{$id};
    }

    # reports: the reverse of User:manager
    my $rep = _zset($t, "${P}User:reports");
    my %want_rep = map { ("$mg->{$_}\0$_" => 1) } keys %$mg;
    for my $e (sort keys %$rep) {
        push @p, "User:reports: \"$e\" (score $rep->{$e}) is no entry of "
            . 'User:manager' unless $want_rep{$e} && $rep->{$e} == 0;
    }
    for my $e (sort keys %want_rep) {
        push @p, "User:reports: \"$e\" missing" unless exists $rep->{$e};
    }

    # memberships: members and memberof mirror images
    my $mem = _zset($t, "${P}members");
    my $of = _zset($t, "${P}memberof");
    my (%mirror, %by_group);
    for my $e (sort keys %$mem) {
        my ($g, $m) = split /\0/, $e, 2;
        unless (defined $m && $m ne '' && $m !~ /\0/) {
            push @p, "members: \"$e\" is not <group>\\0<member>";
            next;
        }
        push @p, "members: score $mem->{$e} for $g <- $m" if $mem->{$e} != 0;
        push @p, "members: group $g (member $m) does not exist"
            unless $groups->{$g};
        push @p, "members: member $m of $g does not exist"
            unless $users->{$m} || $groups->{$m};
        $mirror{"$m\0$g"} = 1;
        $by_group{$g}{$m} = 1;
    }
    for my $e (sort keys %$of) {
        my ($m, $g) = split /\0/, $e, 2;
        push @p, "memberof: score $of->{$e} for $m -> " . ($g // '')
            if $of->{$e} != 0;
        push @p, "memberof: $m -> " . ($g // '') . ", not in members"
            unless $mirror{$e};
    }
    for my $e (sort keys %mirror) {
        my ($m, $g) = split /\0/, $e, 2;
        push @p, "memberof: $m -> $g missing (in members)"
            unless exists $of->{$e};
    }
    $st{memberships} = keys %$mem;

    # through the API
    if (my $get = $o{get}) {
        for my $g (sort keys %$groups) {
            my $r = $get->("Groups/$g");
            if ($r->{status} != 200 || ref $r->{json} ne 'HASH') {
                push @p, "GET Groups/$g: $r->{status}";
                next;
            }
            my %api = map { ($_->{value} // '') => 1 }
                      grep { ref $_ eq 'HASH' }
                      @{ $r->{json}{members} // [] };
            _same_keys(\@p, "group $g", \%api, $by_group{$g} // {},
                       'the API', 'members');
        }
        for my $x (['Users', $st{users}], ['Groups', $st{groups}]) {
            my $r = $get->("$x->[0]?count=0");
            my $n = ref $r->{json} eq 'HASH' ? $r->{json}{totalResults}
                                             : undef;
            push @p, "GET $x->[0]?count=0: totalResults "
                . ($n // "none ($r->{status})") . ", $x->[1] stored"
                unless defined $n && $n == $x->[1];
        }
    }
    return (\@p, \%st);
}

1;
