{#-
  quadmix_sampling_function(rbar, lam, omega, eta, epsilon): SPEC §2 step 4, the expected number
  of copies of a document at token-weighted quality rank rbar:

    S(r) = (2 / (1 + exp(-lambda * (omega - r))))^eta + epsilon   if r <= omega
    S(r) = epsilon                                                otherwise

  exp() never overflows: in the first branch omega - r >= 0, so the exponent is <= 0.
  S is non-increasing in r for lambda, eta >= 0 (the data tests check it).
-#}
{% macro quadmix_sampling_function(rbar, lam, omega, eta, epsilon) -%}
(CASE WHEN {{ rbar }} <= {{ omega }}
      THEN pow(2.0 / (1.0 + exp(-({{ lam }}) * ({{ omega }} - {{ rbar }}))), {{ eta }}) + {{ epsilon }}
      ELSE {{ epsilon }} END)
{%- endmacro %}
