package io.shardring.examples.spring;

import io.shardring.router.ErrorCode;
import io.shardring.router.ShardringException;
import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RequestHeader;
import org.springframework.web.bind.annotation.RestController;

/** The REST API: {@code /tenants/{tenantId}/customers}, {@code /tenants/{tenantId}/orders}, {@code /orders/summary}. */
@RestController
public class TenantController {
    /** The body of POST .../customers. */
    public record NewCustomer(String name) {
    }

    /** The body of POST .../orders. */
    public record NewOrderBody(UUID customerId, long amountCents) {
    }

    private final OrderService orders;

    public TenantController(OrderService orders) {
        this.orders = orders;
    }

    @PostMapping("/tenants/{tenantId}/customers")
    public ResponseEntity<Map<String, UUID>> createCustomer(@PathVariable long tenantId,
            @RequestBody NewCustomer body) {
        UUID id = orders.createCustomer(tenantId, body.name());
        return ResponseEntity.created(URI.create("/tenants/" + tenantId + "/customers/" + id)).body(Map.of("id", id));
    }

    @PostMapping("/tenants/{tenantId}/orders")
    public ResponseEntity<Map<String, UUID>> placeOrder(@PathVariable long tenantId, @RequestBody NewOrderBody body) {
        UUID id = orders.placeOrder(new OrderService.NewOrder(tenantId, body.customerId(), body.amountCents()));
        return ResponseEntity.created(URI.create("/tenants/" + tenantId + "/orders/" + id)).body(Map.of("id", id));
    }

    @GetMapping("/tenants/{tenantId}/orders")
    public List<OrderService.OrderView> orders(@PathVariable long tenantId) {
        return orders.orders(tenantId);
    }

    /** The tenant comes from the X-Tenant-Id header, bound by the starter's web binding. */
    @GetMapping("/orders/summary")
    public OrderService.Summary summary(@RequestHeader(name = "X-Tenant-Id", required = false) Long tenantId) {
        return orders.summary(tenantId == null ? -1 : tenantId);
    }

    /** A request with no tenant is the client's mistake: 400 with the starter's message, which says how to bind. */
    @ExceptionHandler(ShardringException.class)
    public ResponseEntity<Map<String, String>> shardring(ShardringException e) {
        HttpStatus status = e.code() == ErrorCode.NO_KEY_BOUND || e.code() == ErrorCode.INVALID_KEY
                ? HttpStatus.BAD_REQUEST : HttpStatus.SERVICE_UNAVAILABLE;
        return ResponseEntity.status(status).body(Map.of("code", e.code().name(), "message", e.getMessage()));
    }
}
