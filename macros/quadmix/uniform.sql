{#-
  The deterministic per-document uniform u in [0, 1) of the draw, from (doc_id, seed).

    h = md5(doc_id) as a 64-bit integer: bytes 8..15 of the digest, little-endian
        (DuckDB: md5_number(doc_id) >> 64; computed once per document in mixture_inputs)
    z = h XOR (seed * 0x9E3779B97F4A7C15 mod 2^64)
    z = (z XOR z >> 30) * 0xBF58476D1CE4E5B9 mod 2^64      (the splitmix64 finalizer)
    z = (z XOR z >> 27) * 0x94D049BB133111EB mod 2^64
    z =  z XOR z >> 31
    u = (z >> 12) / 2^52                                     (52 bits: an exact double)

  Python: quadmix_wh.sampling.uniform.uniform (the tests check the SQL against it and against
  golden values). Why this way: DuckDB's random() is not reproducible under threads and hash()
  changed across versions, while md5 and 64-bit integer arithmetic give the same bits on every
  machine, engine version and thread count. md5 is the only costly step and does not depend on
  the seed, so it runs once per document (and is kept in mixture_inputs); each seed then costs
  a few integer operations per document. Multiplications are done in UHUGEINT and masked back to
  64 bits, since DuckDB's UBIGINT arithmetic raises on overflow instead of wrapping.
-#}
{% macro quadmix_doc_hash(id_sql) -%}
CAST(md5_number(CAST({{ id_sql }} AS VARCHAR)) >> 64 AS UBIGINT)
{%- endmacro %}

{% macro quadmix_seed_key(seed) -%}
CAST({{ sql_number(((seed | int) * 11400714819323198485) % 18446744073709551616) }} AS UBIGINT)
{%- endmacro %}

{#- one multiply step of the finalizer on a UBIGINT column or expression z -#}
{% macro quadmix_mix_step(z, shift, multiplier) -%}
CAST((CAST(xor({{ z }}, {{ z }} >> {{ shift }}) AS UHUGEINT) * {{ multiplier }}) & 18446744073709551615 AS UBIGINT)
{%- endmacro %}

{% macro quadmix_u_from_z2(z2) -%}
(CAST(xor({{ z2 }}, {{ z2 }} >> 31) >> 12 AS DOUBLE) / 4503599627370496.0)
{%- endmacro %}

{#- u as one scalar expression (repeats its argument: for tests and one-off use; the mixture
    query computes the steps as columns instead, see draw.sql) -#}
{% macro quadmix_uniform_from_hash(hash_sql, seed) -%}
{%- set z0 = 'xor(' ~ hash_sql ~ ', ' ~ quadmix_seed_key(seed) ~ ')' -%}
{%- set z1 = quadmix_mix_step(z0, 30, 13787848793156543929) -%}
{%- set z2 = quadmix_mix_step(z1, 27, 10723151780598845931) -%}
{{ quadmix_u_from_z2(z2) }}
{%- endmacro %}

{% macro quadmix_uniform(id_sql, seed) -%}
{{ quadmix_uniform_from_hash(quadmix_doc_hash(id_sql), seed) }}
{%- endmacro %}
