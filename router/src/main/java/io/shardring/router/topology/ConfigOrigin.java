package io.shardring.router.topology;

/**
 * Where a {@link ConfigFile} came from, as {@link ConfigValidation} tells the user about it: a YAML file names a field
 * by its path and line ({@code nodes[1].weight (line 12)}), Spring by its property ({@code shardring.nodes[1].weight});
 * and a file holds password references only, while Spring hands over a password it already resolved.
 */
public interface ConfigOrigin {

    /** What messages call the configuration: a file name, or "application properties". */
    String source();

    /** The field at {@code path} ({@code nodes[1].weight}) as the user writes it. */
    String name(String path);

    /** The line of the field's value, or 0 when there is none to show. */
    int line(String path);

    /**
     * The password given at {@code path}.
     *
     * @throws io.shardring.router.ConfigurationException when it is not accepted here; never with the password in it
     */
    Secret password(String path, String given);
}
