package io.shardring.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A small REST service for tenants' customers and orders on shardring-spring-boot-starter: no routing code at all.
 * {@link OrderService} marks the tenant with {@code @ShardKey} and is {@code @Transactional}; the starter runs each
 * call on the tenant's shard, waits out a rebalance's cutover inside it, and migrates every shard at start-up.
 */
@SpringBootApplication
public class TenantAppApplication {
    public static void main(String[] args) {
        SpringApplication.run(TenantAppApplication.class, args);
    }
}
