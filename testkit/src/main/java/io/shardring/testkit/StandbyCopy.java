package io.shardring.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Set;

/**
 * Makes the data directory of a physical standby from a running primary with PostgreSQL's low-level backup API,
 * because the embedded binaries have no {@code pg_basebackup}: a physical slot first (so the primary keeps every WAL
 * segment from the backup's start until the standby streams it), {@code pg_backup_start}, a plain file copy,
 * {@code pg_backup_stop} in the same session, whose label file becomes the copy's {@code backup_label}; then
 * {@code standby.signal} and the connection back to the primary in the copy's {@code postgresql.auto.conf}.
 *
 * <p>Files change and vanish under the copy while the primary runs; a torn page is harmless because PostgreSQL
 * writes full pages into the WAL during a backup (even with {@code full_page_writes=off}) and the standby replays
 * that WAL from the checkpoint named in {@code backup_label} before it lets anyone in. PostgreSQL 15 or later (the
 * functions were called {@code pg_start_backup}/{@code pg_stop_backup} before). Tablespaces are not copied: the
 * testkit's servers have none.
 */
final class StandbyCopy {

    /**
     * Directories whose contents a base backup leaves out (the directory itself stays, PostgreSQL expects it):
     * PostgreSQL's documented list for the low-level API, as pg_basebackup applies it. {@code pg_wal}'s segments
     * come by streaming instead, a copied {@code pg_replslot} would give the standby the primary's slots.
     */
    private static final Set<String> EMPTIED_DIRECTORIES = Set.of("pg_wal", "pg_replslot", "pg_dynshmem",
            "pg_notify", "pg_serial", "pg_snapshots", "pg_stat_tmp", "pg_subtrans");

    /**
     * Files a base backup leaves out: the running server's pid and options, a backup's own label files, caches the
     * server rebuilds; and zonky's lock file, which belongs to the instance that holds the primary.
     */
    private static final Set<String> SKIPPED_FILES = Set.of("postmaster.pid", "postmaster.opts", "backup_label",
            "tablespace_map", "backup_manifest", "pg_internal.init", "postgresql.auto.conf.tmp",
            "current_logfiles.tmp", "epg-lock");

    private StandbyCopy() {
    }

    /**
     * Copies the primary on {@code primaryData} (reached through {@code primary}) to {@code target}, which must not
     * exist, as a standby that streams from the primary through the new physical slot {@code name} and reports
     * {@code name} as its {@code application_name}.
     *
     * @param name a lower-case identifier: slot names allow nothing else, and synchronous_standby_names then needs
     *             no quoting
     */
    static void copy(PgShard primary, Path primaryData, Path target, String name) throws SQLException, IOException {
        try (Connection c = primary.connect(); Statement s = c.createStatement()) {
            // reserve now: the slot holds WAL from here on, which includes the backup's start checkpoint
            s.execute("SELECT pg_create_physical_replication_slot('" + name + "', true)");
            // fast: an immediate checkpoint instead of a spread one; the session must stay open until the stop
            s.execute("SELECT pg_backup_start('" + name + "', true)");
            String label;
            String tablespaceMap;
            try {
                copyTree(primaryData, target);
            } finally {
                try (ResultSet rs = s.executeQuery(
                        "SELECT labelfile, spcmapfile FROM pg_backup_stop(wait_for_archive => false)")) {
                    rs.next();
                    label = rs.getString(1);
                    tablespaceMap = rs.getString(2);
                }
            }
            Files.writeString(target.resolve("backup_label"), label, StandardCharsets.UTF_8);
            if (tablespaceMap != null && !tablespaceMap.isEmpty()) {
                Files.writeString(target.resolve("tablespace_map"), tablespaceMap, StandardCharsets.UTF_8);
            }
        }
        Files.createFile(target.resolve("standby.signal"));
        // appended, so these win over whatever ALTER SYSTEM put there on the primary; the port is the primary's
        // local one, the standby's own comes from its command line. synchronous_standby_names is cleared because a
        // promoted standby must not wait for standbys of its old primary.
        String conninfo = "host=" + primary.host() + " port=" + primary.port() + " user=" + primary.user()
                + " application_name=" + name;
        Files.writeString(target.resolve("postgresql.auto.conf"),
                "\n# standby of " + primary.name() + ", made by the shardring testkit\n"
                        + "primary_conninfo = '" + conninfo + "'\n"
                        + "primary_slot_name = '" + name + "'\n"
                        + "hot_standby = on\n"
                        + "synchronous_standby_names = ''\n",
                StandardCharsets.UTF_8, StandardOpenOption.APPEND);
    }

    private static void copyTree(Path source, Path target) throws IOException {
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                Path relative = source.relativize(dir);
                // with its permissions: PostgreSQL refuses a data directory others may read (0700 or 0750 only)
                Files.copy(dir, target.resolve(relative), StandardCopyOption.COPY_ATTRIBUTES);
                if (dir.getFileName().toString().startsWith("pgsql_tmp")) {
                    return FileVisitResult.SKIP_SUBTREE;
                }
                if (relative.getNameCount() == 1 && EMPTIED_DIRECTORIES.contains(relative.toString())) {
                    if (relative.toString().equals("pg_wal")) {
                        // PostgreSQL 15 and 16 do not create it again (17 does); the standby's walreceiver needs it
                        Path archiveStatus = relative.resolve("archive_status");
                        Files.copy(source.resolve(archiveStatus), target.resolve(archiveStatus),
                                StandardCopyOption.COPY_ATTRIBUTES);
                    }
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                String name = file.getFileName().toString();
                if (SKIPPED_FILES.contains(name) || name.startsWith("pgsql_tmp")) {
                    return FileVisitResult.CONTINUE;
                }
                try {
                    Files.copy(file, target.resolve(source.relativize(file)), StandardCopyOption.COPY_ATTRIBUTES);
                } catch (NoSuchFileException e) {
                    // dropped or rewritten meanwhile: the WAL the standby replays says so too
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                if (e instanceof NoSuchFileException) {
                    return FileVisitResult.CONTINUE;
                }
                throw e;
            }
        });
    }
}
