package io.shardring.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.shardring.router.jdbc.ShardContext;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyType;
import io.shardring.router.topology.NodeConfig;
import io.shardring.router.topology.RingSettings;
import io.shardring.router.topology.Topology;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;
import org.springframework.web.servlet.HandlerMapping;

class ShardKeyWebInterceptorTest {
    /** A router over servers that are never contacted: the interceptor only asks for the ring's key type. */
    private static ShardedDataSource router;

    @BeforeAll
    static void router() {
        router = ShardedDataSource.builder(Topology.builder().ring(RingSettings.of(KeyType.UUID))
                .node(NodeConfig.builder("a").jdbcUrl("jdbc:postgresql://127.0.0.1:1/app").user("app").build())
                .build()).probeOnStart(false).build();
    }

    @AfterAll
    static void close() {
        router.close();
    }

    @Test
    void bindsThePathVariableOrElseTheHeaderForTheRequestOnly() throws Exception {
        ShardKeyWebInterceptor web = new ShardKeyWebInterceptor(router, "X-Tenant-Id", "tenantId");
        UUID fromPath = UUID.randomUUID();
        UUID fromHeader = UUID.randomUUID();
        MockHttpServletRequest request = new MockHttpServletRequest();
        request.addHeader("X-Tenant-Id", fromHeader.toString());
        request.setAttribute(HandlerMapping.URI_TEMPLATE_VARIABLES_ATTRIBUTE, Map.of("tenantId", fromPath.toString()));
        MockHttpServletResponse response = new MockHttpServletResponse();
        assertThat(web.preHandle(request, response, new Object())).isTrue();
        assertThat(ShardContext.currentKey()).isEqualTo(fromPath);
        web.afterCompletion(request, response, new Object(), null);
        assertThat(ShardContext.currentKey()).isNull();

        MockHttpServletRequest headerOnly = new MockHttpServletRequest();
        headerOnly.addHeader("X-Tenant-Id", " " + fromHeader + " ");
        assertThat(web.preHandle(headerOnly, response, new Object())).isTrue();
        assertThat(ShardContext.currentKey()).isEqualTo(fromHeader);
        web.afterCompletion(headerOnly, response, new Object(), null);
        assertThat(ShardContext.currentKey()).isNull();

        assertThat(web.preHandle(new MockHttpServletRequest(), response, new Object())).isTrue();
        assertThat(ShardContext.currentKey()).isNull();

        // an asynchronous handler: the request thread lets go of the binding when it lets go of the request
        MockHttpServletRequest async = new MockHttpServletRequest();
        async.addHeader("X-Tenant-Id", fromHeader.toString());
        assertThat(web.preHandle(async, response, new Object())).isTrue();
        web.afterConcurrentHandlingStarted(async, response, new Object());
        assertThat(ShardContext.currentKey()).isNull();
    }

    @Test
    void aValueThatIsNotATenantIdIsABadRequestNamingIt() throws Exception {
        ShardKeyWebInterceptor web = new ShardKeyWebInterceptor(router, "X-Tenant-Id", null);
        MockHttpServletRequest request = new MockHttpServletRequest();
        request.addHeader("X-Tenant-Id", "42");
        MockHttpServletResponse response = new MockHttpServletResponse();
        assertThat(web.preHandle(request, response, new Object())).isFalse();
        assertThat(response.getStatus()).isEqualTo(400);
        assertThat(response.getErrorMessage()).isEqualTo("the header X-Tenant-Id '42' is not a uuid tenant id");
        assertThat(ShardContext.currentKey()).isNull();
    }
}
