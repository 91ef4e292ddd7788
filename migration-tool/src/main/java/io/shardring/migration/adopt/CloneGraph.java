package io.shardring.migration.adopt;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;

/**
 * The clone's statements as items, and the order they run in: an item runs after the items that make what its rows
 * depend on in the source's pg_depend, whatever their kinds, so that an object always follows what it refers to. A
 * reference to a row that no item makes and no extension owns goes to an {@link Unresolved} callback, which decides
 * what it means.
 */
final class CloneGraph {

    /** Objects with smaller OIDs were made by initdb (built-in types, functions, plpgsql): the target has them. */
    static final long FIRST_NORMAL_OID = 16384;

    // phases: the order of items that do not depend on each other, the way a reader expects it
    static final int SCHEMA = 0;
    static final int EXTENSION = 1;
    static final int TYPE = 2;
    static final int FUNCTION = 3;
    static final int SEQUENCE = 4;
    static final int TABLE = 5;
    static final int VIEW = 6;
    static final int OWNED_BY = 7;
    static final int CONSTRAINT = 8;
    static final int INDEX = 9;
    static final int FOREIGN_KEY = 10;
    static final int TRIGGER = 11;
    static final int POLICY = 12;
    static final int TABLE_OPTIONS = 13;

    /** A catalog row: the catalog's name (pg_class, pg_type, ...) and the row's OID, as pg_depend names objects. */
    record Obj(String catalog, long oid) {
    }

    /**
     * One or a few statements that make some catalog rows ({@link #define}); they must run after the statements that
     * make what its source rows depend on in the source's pg_depend ({@link #source}), and after the items that make
     * {@code needs}.
     */
    static final class Item {
        private final int phase;
        private final int seq;
        private final String label;
        final List<String> sql = new ArrayList<>();
        final Set<Obj> needs = new HashSet<>();
        private final Set<Item> after = new HashSet<>();

        private Item(int phase, int seq, String label) {
            this.phase = phase;
            this.seq = seq;
            this.label = label;
        }
    }

    /** Told of a reference from a cloned object to a user object outside the clone that no extension owns. */
    @FunctionalInterface
    interface Unresolved {
        /**
         * @param dependent   the referring object, as pg_describe_object names it
         * @param description the referenced object, an index named by its table
         * @param schema      the referenced object's schema, as pg_identify_object gives it
         * @param identity    the referenced object's identity, as pg_identify_object gives it
         */
        void reference(Obj referenced, String dependent, String description, String schema, String identity);
    }

    private final List<Item> items = new ArrayList<>();
    private final Map<Obj, Item> definedBy = new HashMap<>();
    private final Map<Obj, Item> sourcedBy = new HashMap<>();

    /** A new item; among items ready at once, the lower phase goes first, then the one made first. */
    Item item(int phase, String label) {
        Item i = new Item(phase, items.size(), label);
        items.add(i);
        return i;
    }

    /** The item makes the row: whatever depends on the row runs after it. */
    void define(Item item, String catalog, long oid) {
        if (oid != 0) {
            definedBy.put(new Obj(catalog, oid), item);
        }
    }

    /** The item runs after whatever the row depends on in the source's pg_depend. */
    void source(Item item, String catalog, long oid) {
        sourcedBy.put(new Obj(catalog, oid), item);
    }

    /**
     * Turns the items' needs and the source's pg_depend rows between user objects into "runs after" between items;
     * a reference that resolves to no item goes to {@code unresolved}.
     */
    void link(CatalogQuery source, Unresolved unresolved) throws SQLException {
        Map<Obj, Obj> memberOf = new HashMap<>();
        source.each("""
                SELECT classid::regclass::text, objid, refobjid FROM pg_depend
                WHERE deptype = 'e' AND refclassid = 'pg_extension'::regclass""",
                r -> memberOf.put(new Obj(r.getString(1), r.getLong(2)), new Obj("pg_extension", r.getLong(3))));
        Map<Long, Long> arrayOf = new HashMap<>();
        source.each("SELECT typarray, oid FROM pg_type WHERE typarray <> 0 AND oid >= 16384",
                r -> arrayOf.put(r.getLong(1), r.getLong(2)));
        for (Item i : items) {
            for (Obj needed : i.needs) {
                Item before = resolve(needed, memberOf, arrayOf);
                if (before != null && before != i) {
                    i.after.add(before);
                }
            }
        }
        source.each("""
                SELECT d.classid::regclass::text, d.objid, d.refclassid::regclass::text, d.refobjid,
                       pg_describe_object(d.classid, d.objid, d.objsubid),
                       pg_describe_object(d.refclassid, coalesce((SELECT i.indrelid FROM pg_index i
                              WHERE d.refclassid = 'pg_class'::regclass AND i.indexrelid = d.refobjid),
                              d.refobjid), 0),
                       (pg_identify_object(d.refclassid, d.refobjid, 0)).schema,
                       (pg_identify_object(d.refclassid, d.refobjid, 0)).identity
                FROM pg_depend d
                WHERE d.deptype IN ('n', 'a') AND d.objid >= 16384 AND d.refobjid >= 16384""", r -> {
            Item dependent = sourcedBy.get(new Obj(r.getString(1), r.getLong(2)));
            if (dependent == null) {
                return;
            }
            Obj referenced = new Obj(r.getString(3), r.getLong(4));
            Item before = resolve(referenced, memberOf, arrayOf);
            if (before == null) {
                if (referenced.oid() >= FIRST_NORMAL_OID) {
                    unresolved.reference(referenced, r.getString(5), r.getString(6), r.getString(7), r.getString(8));
                }
            } else if (before != dependent) {
                dependent.after.add(before);
            }
        });
    }

    private Item resolve(Obj o, Map<Obj, Obj> memberOf, Map<Long, Long> arrayOf) {
        if (o.oid() < FIRST_NORMAL_OID) {
            return null;
        }
        Item i = definedBy.get(o);
        if (i == null && o.catalog().equals("pg_type") && arrayOf.containsKey(o.oid())) {
            return resolve(new Obj("pg_type", arrayOf.get(o.oid())), memberOf, arrayOf);
        }
        if (i == null && memberOf.containsKey(o)) {
            i = definedBy.get(memberOf.get(o));
        }
        return i;
    }

    /**
     * The items' statements in an order that applies on an empty database: Kahn's algorithm; among items ready at
     * once, the lower phase, then the reading order, goes first.
     *
     * @param schemas the cloned schemas, for the refusal of items that wait for each other
     */
    List<String> statements(List<String> schemas) {
        Map<Item, List<Item>> followers = new HashMap<>();
        Map<Item, Integer> waiting = new HashMap<>();
        for (Item i : items) {
            waiting.put(i, i.after.size());
            for (Item before : i.after) {
                followers.computeIfAbsent(before, k -> new ArrayList<>()).add(i);
            }
        }
        PriorityQueue<Item> ready = new PriorityQueue<>(
                Comparator.comparingInt((Item i) -> i.phase).thenComparingInt(i -> i.seq));
        items.stream().filter(i -> i.after.isEmpty()).forEach(ready::add);
        List<Item> out = new ArrayList<>();
        while (!ready.isEmpty()) {
            Item i = ready.poll();
            out.add(i);
            for (Item f : followers.getOrDefault(i, List.of())) {
                if (waiting.merge(f, -1, Integer::sum) == 0) {
                    ready.add(f);
                }
            }
        }
        if (out.size() < items.size()) {
            List<String> stuck = items.stream().filter(i -> !out.contains(i)).map(i -> i.label).toList();
            throw new ShardringException(ErrorCode.INVALID_CONFIGURATION, "cannot clone the schemas " + schemas
                    + ": these objects depend on each other in a circle that plain CREATE statements cannot make: "
                    + stuck);
        }
        List<String> statements = new ArrayList<>();
        for (Item i : out) {
            statements.addAll(i.sql);
        }
        return statements;
    }
}
