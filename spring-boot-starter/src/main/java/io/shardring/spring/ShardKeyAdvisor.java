package io.shardring.spring;

import io.shardring.router.ConfigurationException;
import io.shardring.router.ErrorCode;
import io.shardring.router.InvalidKeyException;
import io.shardring.router.ShardringException;
import io.shardring.router.jdbc.ShardContext;
import io.shardring.router.jdbc.ShardedDataSource;
import io.shardring.router.ring.KeyType;
import java.lang.reflect.Method;
import java.lang.reflect.UndeclaredThrowableException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.aopalliance.aop.Advice;
import org.aopalliance.intercept.MethodInterceptor;
import org.aopalliance.intercept.MethodInvocation;
import org.springframework.aop.Pointcut;
import org.springframework.aop.ProxyMethodInvocation;
import org.springframework.aop.support.AbstractPointcutAdvisor;
import org.springframework.aop.support.AopUtils;
import org.springframework.aop.support.StaticMethodMatcherPointcut;
import org.springframework.context.expression.MethodBasedEvaluationContext;
import org.springframework.core.DefaultParameterNameDiscoverer;
import org.springframework.core.ParameterNameDiscoverer;
import org.springframework.core.annotation.AnnotatedElementUtils;
import org.springframework.expression.Expression;
import org.springframework.expression.ExpressionException;
import org.springframework.expression.spel.standard.SpelExpressionParser;
import org.springframework.core.MethodClassKey;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.annotation.AnnotationTransactionAttributeSource;
import org.springframework.transaction.interceptor.TransactionAttribute;
import org.springframework.transaction.interceptor.TransactionAttributeSource;
import org.springframework.util.ClassUtils;

/**
 * Binds the shard key of methods with a {@link ShardKey} parameter or {@link ShardedBy}, and makes
 * {@code @Transactional} methods wait out a move's cutover as {@code ShardedDataSource.inTransaction} does: a
 * transaction the guard rejected because its key is being moved has rolled back, and runs again on the key's owner
 * once the cutover is over. It is ordered before Spring's transaction advice, so the key is bound before the
 * transaction begins. Inside a running transaction it only binds (another key is an error) and never runs anything
 * again: only the outermost transactional call is a whole unit of work.
 */
final class ShardKeyAdvisor extends AbstractPointcutAdvisor {
    private static final long serialVersionUID = 1L;

    /** Before Spring's transaction advisor (LOWEST_PRECEDENCE by default), so around it. */
    static final int ORDER = LOWEST_PRECEDENCE - 1000;

    private final transient Supplier<ShardedDataSource> router;
    /** Spring's own reading of @Transactional (and jakarta.transaction.Transactional), as its advisor does. */
    private final transient TransactionAttributeSource transactions = new AnnotationTransactionAttributeSource(false);
    private final transient Map<MethodClassKey, KeySource> sources = new ConcurrentHashMap<>();
    private final transient Pointcut pointcut = new StaticMethodMatcherPointcut() {
        @Override
        public boolean matches(Method method, Class<?> targetClass) {
            return source(method, targetClass).applies();
        }
    };
    private final transient MethodInterceptor interceptor = this::invoke;

    ShardKeyAdvisor(Supplier<ShardedDataSource> router) {
        this.router = router;
        setOrder(ORDER);
    }

    @Override
    public Pointcut getPointcut() {
        return pointcut;
    }

    @Override
    public Advice getAdvice() {
        return interceptor;
    }

    private Object invoke(MethodInvocation inv) throws Throwable {
        Object target = inv.getThis();
        Class<?> targetClass = target == null ? inv.getMethod().getDeclaringClass() : AopUtils.getTargetClass(target);
        KeySource source = source(inv.getMethod(), targetClass);
        Object key = source.key(inv.getArguments());
        if (key == null && source.annotated()) {
            throw new InvalidKeyException("the shard key of " + source.method + " (" + source.describe() + ") is"
                    + " null; pass the tenant id of the call" + (source.expression != null ? " (a #name in @ShardedBy"
                    + " needs the compiler's -parameters flag; #p0 works without)" : ""));
        }
        if (key == null) {
            key = ShardContext.currentKey();
            if (key == null) {
                return inv.proceed(); // not bound: a transaction refuses to begin, naming the method
            }
        } else {
            checkType(source, key);
        }
        if (!source.runsAgain || ShardContext.transactionKey() != null) {
            return ShardContext.callWithKey(key, () -> proceed(inv));
        }
        // each run gets a fresh invocation: proceed() on a used one skips the advice after this one, the transaction
        long[] commitsBefore = new long[1];
        return router.get().awaitingCutover(key, () -> {
            commitsBefore[0] = ShardedTransactions.commits();
            return proceed(((ProxyMethodInvocation) inv).invocableClone());
        }, e -> ShardedTransactions.commits() == commitsBefore[0]); // something committed: running it again
                                                                    // would repeat that
    }

    private static Object proceed(MethodInvocation inv) throws Exception {
        try {
            return inv.proceed();
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new UndeclaredThrowableException(t);
        }
    }

    private void checkType(KeySource source, Object key) {
        try {
            router.get().topology().ringSettings().keyType().hash(key);
        } catch (InvalidKeyException e) {
            throw new InvalidKeyException("the shard key of " + source.method + " (" + source.describe() + "): "
                    + e.getMessage());
        }
    }

    private KeySource source(Method method, Class<?> targetClass) {
        MethodClassKey key = new MethodClassKey(method, targetClass);
        KeySource source = sources.get(key);
        if (source == null) {
            // not computeIfAbsent: finding the key type may create the router, whose own methods are matched then
            source = KeySource.of(AopUtils.getMostSpecificMethod(method, targetClass), targetClass, this::keyType,
                    transactions);
            KeySource raced = sources.putIfAbsent(key, source);
            source = raced != null ? raced : source;
        }
        return source;
    }

    private KeyType keyType() {
        return router.get().topology().ringSettings().keyType();
    }

    /** Where a method's key comes from, found once per method. */
    static final class KeySource {
        private static final SpelExpressionParser PARSER = new SpelExpressionParser();
        private static final ParameterNameDiscoverer NAMES = new DefaultParameterNameDiscoverer();

        final String method;
        final Method reflected;
        final int parameter;
        final Expression expression;
        final String expressionText;
        /**
         * Whether an outermost call is a whole transaction of its own, so that a run the guard rejected rolled back
         * and may run again: REQUIRED, REQUIRES_NEW and NESTED begin one; SUPPORTS, NOT_SUPPORTED and NEVER run in
         * auto-commit, MANDATORY never runs outermost.
         */
        final boolean runsAgain;
        final boolean transactional;

        private KeySource(Method reflected, int parameter, String expressionText, boolean transactional,
                boolean runsAgain) {
            this.reflected = reflected;
            this.method = ClassUtils.getQualifiedMethodName(reflected);
            this.parameter = parameter;
            this.expressionText = expressionText;
            this.transactional = transactional;
            this.runsAgain = runsAgain;
            try {
                this.expression = expressionText == null ? null : PARSER.parseExpression(expressionText);
            } catch (ExpressionException e) {
                throw new ConfigurationException("@ShardedBy(\"" + expressionText + "\") on " + method + " is not a"
                        + " valid SpEL expression: " + e.getMessage() + "; write e.g. @ShardedBy(\"#tenantId\")", e);
            }
        }

        static KeySource of(Method m, Class<?> targetClass, Supplier<KeyType> keyType,
                TransactionAttributeSource transactions) {
            TransactionAttribute tx = transactions.getTransactionAttribute(m, targetClass);
            int propagation = tx == null ? -1 : tx.getPropagationBehavior();
            boolean runsAgain = propagation == TransactionDefinition.PROPAGATION_REQUIRED
                    || propagation == TransactionDefinition.PROPAGATION_REQUIRES_NEW
                    || propagation == TransactionDefinition.PROPAGATION_NESTED;
            ShardedBy by = AnnotatedElementUtils.findMergedAnnotation(m, ShardedBy.class);
            int parameter = -1;
            java.lang.annotation.Annotation[][] annotations = m.getParameterAnnotations();
            for (int i = 0; i < annotations.length; i++) {
                for (java.lang.annotation.Annotation a : annotations[i]) {
                    if (a instanceof ShardKey) {
                        String name = ClassUtils.getQualifiedMethodName(m);
                        if (parameter >= 0) {
                            throw new ConfigurationException(name + " has more than one @ShardKey parameter;"
                                    + " a call runs on one shard: mark the one parameter that holds the tenant id");
                        }
                        if (by != null) {
                            throw new ConfigurationException(name + " has both @ShardedBy and a @ShardKey"
                                    + " parameter; keep one");
                        }
                        parameter = i;
                    }
                }
            }
            if (parameter >= 0) {
                checkParameterType(m, parameter, keyType.get());
            }
            return new KeySource(m, parameter, by == null ? null : by.value(), tx != null, runsAgain);
        }

        /** At start-up: a parameter whose declared type can never hold a key of the ring's type stops the app. */
        private static void checkParameterType(Method m, int index, KeyType keyType) {
            Class<?> declared = ClassUtils.resolvePrimitiveIfNecessary(m.getParameterTypes()[index]);
            List<Class<?>> taken = switch (keyType) {
                case BIGINT -> List.of(Long.class, Integer.class, Short.class);
                case INTEGER -> List.of(Integer.class, Short.class);
                case TEXT -> List.of(String.class, CharSequence.class);
                case UUID -> List.of(UUID.class);
            };
            if (taken.stream().noneMatch(declared::isAssignableFrom)) {
                throw new ConfigurationException("@ShardKey parameter " + index + " of "
                        + ClassUtils.getQualifiedMethodName(m) + " is a " + m.getParameterTypes()[index].getName()
                        + ", but the ring's key type is " + keyType.name().toLowerCase(java.util.Locale.ROOT)
                        + " (ring.keyType), which takes " + taken.stream().map(Class::getSimpleName).toList()
                        + "; change the parameter's type or mark another one");
            }
        }

        boolean annotated() {
            return parameter >= 0 || expression != null;
        }

        boolean applies() {
            return annotated() || transactional;
        }

        Object key(Object[] args) {
            if (parameter >= 0) {
                return args[parameter];
            }
            if (expression == null) {
                return null;
            }
            MethodBasedEvaluationContext ctx = new MethodBasedEvaluationContext(null, reflected, args, NAMES);
            try {
                return expression.getValue(ctx);
            } catch (ExpressionException e) {
                throw new ShardringException(ErrorCode.INVALID_KEY, "@ShardedBy(\"" + expressionText + "\") on "
                        + method + " cannot be evaluated: " + e.getMessage() + " (parameter names need the"
                        + " compiler's -parameters flag; #p0 works without)", e);
            }
        }

        String describe() {
            return parameter >= 0 ? "@ShardKey parameter " + parameter : "@ShardedBy(\"" + expressionText + "\")";
        }
    }
}
