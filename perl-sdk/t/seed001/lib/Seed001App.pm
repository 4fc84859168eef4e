package Seed001App;
# The application around 001's four fragments ("Use Case Example: Perl Application: 3 Services +
# 1 Script"): the functions the document calls but does not show, and the variables its fragments
# use without declaring them. Everything works on the current directory, which t/seed001.t makes a
# private work area:
#
#   app.conf        key = value lines (queue, db, columns)
#   queue/          one file per queued job: "<job id>\t<file>\n" (file-receiver → queue-service)
#   db/<name>.tsv   the "database" db-loader loads rows into
#
# Stubs, but real ones: they read and write those files, so what the fragments log (sizes,
# validity, row counts) is what happened.
use strict;
use warnings;
use Exporter 'import';
use File::Basename qw(basename);
use Time::HiRes ();
use Monitoring::SDK ();   # 001's fragments after the first one use it without a "use" line

our @EXPORT = qw(read_config parse_config generate_job_id validate_file enqueue dequeue
                 load_file_to_db cpu_percent memory_mb disk_io_mb);

my $T0 = Time::HiRes::time();

# key = value lines, '#' comments; dies on anything else (config-service's parse_config)
sub read_config {
    my ($path) = @_;
    open my $fh, '<', $path or die "cannot read $path: $!\n";
    my %c;
    while (my $l = <$fh>) {
        next if $l =~ /^\s*(?:#|$)/;
        $l =~ /^\s*(\w+)\s*=\s*(.*?)\s*$/ or die "$path line $.: not key = value\n";
        $c{$1} = $2;
    }
    return \%c;
}

# 001: my $config = parse_config($config_file); ... length($config) / 1024: the checked text.
sub parse_config {
    my ($path) = @_;
    read_config($path);
    open my $fh, '<', $path or die "cannot read $path: $!\n";
    local $/;
    return scalar <$fh>;
}

my ($last_job, $n) = (undef, 0);   # enqueue($file) gets no job id in 001: the application remembers the one it made
sub generate_job_id { return $last_job = sprintf 'job-%d-%d-%d', int($T0), $$, ++$n }

# A CSV file is valid when it has a header and at least one row, each with config's column count.
sub validate_file {
    my ($file, $config) = @_;
    open my $fh, '<', $file or return 0;
    my $lines = 0;
    while (my $l = <$fh>) {
        chomp $l;
        return 0 if (() = split /,/, $l, -1) != $config->{columns};
        $lines++;
    }
    return $lines >= 2;
}

sub enqueue {
    my ($file) = @_;
    my $c = read_config('app.conf');
    mkdir $c->{queue};
    my $tmp = "$c->{queue}/.$last_job";
    open my $fh, '>', $tmp or die "$tmp: $!";
    print $fh "$last_job\t$file\n";
    close $fh or die "$tmp: $!";
    rename $tmp, "$c->{queue}/$last_job" or die "rename $tmp: $!";   # whole, or not there
}

# The oldest queued job as {id, file}, removed from the queue; undef when the queue is empty.
sub dequeue {
    my $c = read_config('app.conf');
    my @q = sort { (stat $a)[9] <=> (stat $b)[9] || $a cmp $b } grep { !m{/\.} } glob("$c->{queue}/*");
    my $next = $q[0] // return undef;
    open my $fh, '<', $next or die "$next: $!";
    my ($id, $file) = split /\t/, scalar(<$fh>) =~ s/\n\z//r;
    close $fh;
    unlink $next or die "unlink $next: $!";
    return { id => $id, file => $file };
}

# Appends the rows (not the header) to db/<file name without .csv>.tsv; returns their number.
sub load_file_to_db {
    my ($file) = @_;
    my $c = read_config('app.conf');
    mkdir $c->{db};
    open my $in, '<', $file or die "$file: $!";
    (my $table = basename($file)) =~ s/\.csv\z//;
    open my $out, '>>', "$c->{db}/$table.tsv" or die "$c->{db}/$table.tsv: $!";
    <$in>;   # header
    my $rows = 0;
    while (my $l = <$in>) { chomp $l; print $out join("\t", split /,/, $l, -1), "\n"; $rows++ }
    close $out or die "$c->{db}/$table.tsv: $!";
    return $rows;
}

# This process: CPU time as a percentage of its run time, resident memory, bytes read and written.
sub cpu_percent { my ($u, $s) = times; my $t = Time::HiRes::time() - $T0; $t > 0 ? 100 * ($u + $s) / $t : 0 }
sub memory_mb {
    open my $fh, '<', '/proc/self/statm' or return undef;
    my @f = split ' ', scalar <$fh>;
    return $f[1] * 4096 / 1048576;
}
sub disk_io_mb {
    open my $fh, '<', '/proc/self/io' or return undef;
    my %v = map { /^(\w+):\s*(\d+)/ ? ($1 => $2) : () } <$fh>;
    return (($v{rchar} // 0) + ($v{wchar} // 0)) / 1048576;
}

1;
