package io.shardring.spring;

import io.shardring.router.jdbc.ShardContext;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyType;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.util.Map;
import java.util.UUID;
import org.springframework.web.servlet.AsyncHandlerInterceptor;
import org.springframework.web.servlet.HandlerMapping;

/**
 * Binds a web request's tenant for its handler (Spring MVC): from the path variable {@code shardring.web.path-variable}
 * if the request's mapping has it, else from the header {@code shardring.web.header}; converted to the ring's key
 * type. A value that does not convert is answered with 400 naming it. A request with neither binds nothing: its
 * handler binds by {@code @ShardKey}, or a transaction refuses to begin. The binding ends with the request, or,
 * for an asynchronous handler ({@code Callable}, {@code DeferredResult}), when the request thread lets go of it:
 * work on other threads binds by {@code @ShardKey} or {@code ShardContext}.
 */
public final class ShardKeyWebInterceptor implements AsyncHandlerInterceptor {
    private static final String SCOPE = ShardKeyWebInterceptor.class.getName() + ".scope";

    private final ShardedDataSource router;
    private final String header;
    private final String pathVariable;

    public ShardKeyWebInterceptor(ShardedDataSource router, String header, String pathVariable) {
        this.router = router;
        this.header = header;
        this.pathVariable = pathVariable;
    }

    @Override
    public boolean preHandle(HttpServletRequest request, HttpServletResponse response, Object handler)
            throws Exception {
        String raw = null;
        String from = null;
        if (pathVariable != null) {
            Object vars = request.getAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE);
            if (vars instanceof Map<?, ?> m && m.get(pathVariable) != null) {
                raw = String.valueOf(m.get(pathVariable));
                from = "path variable " + pathVariable;
            }
        }
        if (raw == null && header != null && request.getHeader(header) != null) {
            raw = request.getHeader(header);
            from = "header " + header;
        }
        if (raw == null) {
            return true;
        }
        KeyType type = router.topology().ringSettings().keyType();
        Object key;
        try {
            key = convert(raw.trim(), type);
        } catch (IllegalArgumentException e) {
            String shown = raw.length() > 40 ? raw.substring(0, 40) + "..." : raw;
            response.sendError(HttpServletResponse.SC_BAD_REQUEST, "the " + from + " '" + shown + "' is not a "
                    + type.sqlType() + " tenant id");
            return false;
        }
        request.setAttribute(SCOPE, ShardContext.open(key));
        return true;
    }

    @Override
    public void afterConcurrentHandlingStarted(HttpServletRequest request, HttpServletResponse response,
            Object handler) {
        unbind(request);
    }

    @Override
    public void afterCompletion(HttpServletRequest request, HttpServletResponse response, Object handler,
            Exception ex) {
        unbind(request);
    }

    private static void unbind(HttpServletRequest request) {
        Object scope = request.getAttribute(SCOPE);
        if (scope instanceof ShardContext.Scope s) {
            request.removeAttribute(SCOPE);
            s.close();
        }
    }

    static Object convert(String raw, KeyType type) {
        return switch (type) {
            case BIGINT -> Long.parseLong(raw);
            case INTEGER -> Integer.parseInt(raw);
            case TEXT -> raw;
            case UUID -> UUID.fromString(raw);
        };
    }
}
