package io.shardring.router.ring;

import io.shardring.router.InvalidKeyException;
import java.util.Locale;
import java.util.UUID;

/**
 * The SQL type of a shard key, and the PostgreSQL function whose value places a key on the ring.
 *
 * <p>Each type uses its own built-in hash function with seed 0 because logical-replication row filters
 * accept only immutable built-in functions and refuse casts, so {@code tenant_id::text} is not an option.
 */
public enum KeyType {
    /** {@code bigint} keys, Java {@code long}/{@link Long}: {@code hashint8extended(k, 0)}. */
    BIGINT("hashint8extended", "bigint"),
    /** {@code integer} keys, Java {@code int}/{@link Integer}: {@code hashint4extended(k, 0)}. */
    INTEGER("hashint4extended", "integer"),
    /** {@code text}/{@code varchar} keys, Java {@link CharSequence}: {@code hashtextextended(k, 0)}. */
    TEXT("hashtextextended", "text"),
    /** {@code uuid} keys, Java {@link UUID}: {@code uuid_hash_extended(k, 0)}. */
    UUID("uuid_hash_extended", "uuid");

    private final String sqlFunction;
    private final String sqlType;

    KeyType(String sqlFunction, String sqlType) {
        this.sqlFunction = sqlFunction;
        this.sqlType = sqlType;
    }

    /** The PostgreSQL function that computes this type's key hash, e.g. {@code hashint8extended}. */
    public String sqlFunction() {
        return sqlFunction;
    }

    /** The PostgreSQL type name of the key column. */
    public String sqlType() {
        return sqlType;
    }

    /**
     * The SQL expression that computes the ring hash of a column, e.g.
     * {@code hashint8extended("tenant_id", 0)}. The column name is quoted, never spliced.
     */
    public String sqlHash(String column) {
        return sqlFunction + "(" + io.shardring.router.Sql.quote(column) + ", 0)";
    }

    /**
     * Whether a column of the PostgreSQL type {@code typname} (as in {@code pg_type.typname}, e.g.
     * {@code int8}) holds keys of this type, so that this type's hash function applies to it.
     */
    public boolean acceptsColumnType(String typname) {
        switch (this) {
            case BIGINT:
                return "int8".equals(typname);
            case INTEGER:
                return "int4".equals(typname);
            case TEXT:
                return "text".equals(typname) || "varchar".equals(typname);
            default:
                return "uuid".equals(typname);
        }
    }

    /**
     * The ring hash of a key of this type, equal to the value PostgreSQL computes for it.
     *
     * @throws InvalidKeyException if the key is null or of a Java type this key type does not take
     */
    public long hash(Object key) {
        if (key == null) {
            throw new InvalidKeyException("shard key is null; every row needs a non-null " + sqlType + " key");
        }
        switch (this) {
            case BIGINT:
                if (key instanceof Long || key instanceof Integer || key instanceof Short) {
                    return PgHash.hashInt8(((Number) key).longValue());
                }
                break;
            case INTEGER:
                if (key instanceof Integer || key instanceof Short) {
                    return PgHash.hashUint32(((Number) key).intValue());
                }
                break;
            case TEXT:
                if (key instanceof CharSequence) {
                    return hashText((CharSequence) key);
                }
                break;
            case UUID:
                if (key instanceof java.util.UUID) {
                    java.util.UUID u = (java.util.UUID) key;
                    return PgHash.hashUuid(u.getMostSignificantBits(), u.getLeastSignificantBits());
                }
                break;
            default:
                break;
        }
        throw new InvalidKeyException("shard key " + describe(key) + " does not fit key type " + name()
                + " (" + sqlType + "); pass a " + javaTypes());
    }

    /**
     * A key of this type from its text, as an operator types it: a whole number for bigint and integer, any text for
     * text, a UUID in its usual form for uuid.
     *
     * @throws InvalidKeyException naming the text and the type it does not fit
     */
    public Object parseKey(String text) {
        if (text == null) {
            throw new InvalidKeyException("shard key is missing; give a " + sqlType + " value");
        }
        try {
            switch (this) {
                case BIGINT:
                    return Long.parseLong(text.trim());
                case INTEGER:
                    return Integer.parseInt(text.trim());
                case UUID:
                    String t = text.trim();
                    if (!t.matches("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")) {
                        throw new IllegalArgumentException();
                    }
                    return java.util.UUID.fromString(t);
                default:
                    hashText(text); // refuses text that is not valid Unicode
                    return text;
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidKeyException("shard key '" + (text.length() > 40 ? text.substring(0, 40) + "..." : text)
                    + "' is not a " + sqlType + (this == UUID ? " (use the form 123e4567-e89b-12d3-a456-426614174000)"
                    : this == BIGINT || this == INTEGER ? " (use a whole number in " + sqlType + "'s range)" : ""));
        }
    }

    static long hashText(CharSequence key) {
        try {
            return PgHash.hashUtf8(key);
        } catch (IllegalArgumentException e) {
            throw new InvalidKeyException("text shard key is not valid Unicode: " + e.getMessage());
        }
    }

    private String javaTypes() {
        switch (this) {
            case BIGINT:
                return "Long (or Integer/Short)";
            case INTEGER:
                return "Integer (or Short)";
            case TEXT:
                return "String (or another CharSequence)";
            default:
                return "java.util.UUID";
        }
    }

    private static String describe(Object key) {
        String text = String.valueOf(key);
        if (text.length() > 40) {
            text = text.substring(0, 40) + "...";
        }
        return "'" + text + "' of type " + key.getClass().getName();
    }

    /**
     * Parses a key type by its enum name or SQL type name ({@code bigint}, {@code int8}, {@code integer},
     * {@code int4}, {@code text}, {@code varchar}, {@code uuid}).
     *
     * @throws io.shardring.router.ConfigurationException naming the value and the accepted ones
     */
    public static KeyType parse(String value) {
        if (value != null) {
            switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "bigint":
                case "int8":
                case "long":
                    return BIGINT;
                case "integer":
                case "int":
                case "int4":
                    return INTEGER;
                case "text":
                case "varchar":
                case "character varying":
                case "string":
                    return TEXT;
                case "uuid":
                    return UUID;
                default:
                    break;
            }
        }
        throw new io.shardring.router.ConfigurationException("unsupported key type '" + value
                + "'; use one of bigint, integer, text, uuid");
    }
}
