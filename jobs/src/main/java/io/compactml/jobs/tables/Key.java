package io.compactml.jobs.tables;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * A key column of a table row record: never null, and part of what identifies a row (the columns MERGE matches
 * on, and the only columns an idempotent replace may be scoped by).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.RECORD_COMPONENT, ElementType.METHOD})
public @interface Key {}
