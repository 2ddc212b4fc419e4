"""Coded values for the person record (DOMAIN.md, "Data items worth getting right")."""

from django.db import models


class Ethnicity(models.TextChoices):
    # NHS Data Dictionary: ethnic category (2001 census categories)
    A = "A", "White – British"
    B = "B", "White – Irish"
    C = "C", "White – any other White background"
    D = "D", "Mixed – White and Black Caribbean"
    E = "E", "Mixed – White and Black African"
    F = "F", "Mixed – White and Asian"
    G = "G", "Mixed – any other mixed background"
    H = "H", "Asian or Asian British – Indian"
    J = "J", "Asian or Asian British – Pakistani"
    K = "K", "Asian or Asian British – Bangladeshi"
    L = "L", "Asian or Asian British – any other Asian background"
    M = "M", "Black or Black British – Caribbean"
    N = "N", "Black or Black British – African"
    P = "P", "Black or Black British – any other Black background"
    R = "R", "Other ethnic groups – Chinese"
    S = "S", "Other ethnic groups – any other ethnic group"
    Z = "Z", "Not stated"
    NOT_KNOWN = "99", "Not known"


class Accommodation(models.TextChoices):
    FAMILY_HOME = "family_home", "Family home"
    KINSHIP_CARE = "kinship_care", "Kinship care"
    FOSTER_CARE = "foster_care", "Foster care"
    CHILDRENS_HOME = "childrens_home", "Children's residential home"
    RESIDENTIAL_SCHOOL_38 = "residential_school_38", "Residential school (38-week)"
    RESIDENTIAL_SCHOOL_52 = "residential_school_52", "Residential school (52-week)"
    SUPPORTED_LIVING = "supported_living", "Supported living"
    SECURE_CHILDRENS_HOME = "secure_childrens_home", "Secure children's home"
    HOSPITAL = "hospital", "Hospital"
    OTHER = "other", "Other"


class LearningDisability(models.TextChoices):
    YES = "yes", "Yes"
    SUSPECTED = "suspected", "Suspected"
    NO = "no", "No"


class Autism(models.TextChoices):
    DIAGNOSED = "diagnosed", "Diagnosed"
    AWAITING = "awaiting", "Awaiting assessment"
    NO = "no", "No"


class EHCPlan(models.TextChoices):
    YES = "yes", "Yes"
    IN_ASSESSMENT = "in_assessment", "In assessment"
    NO = "no", "No"


class Attendance(models.TextChoices):
    FULL = "full", "Attending full time"
    PARTIAL = "partial", "Part-time or reduced timetable"
    NOT_ATTENDING = "not_attending", "Not attending"
    EXCLUDED = "excluded", "Excluded"
    NOT_IN_EDUCATION = "not_in_education", "Not in education, employment or training"
    NOT_APPLICABLE = "not_applicable", "Not applicable (under school age)"


class Status(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class ClosureReason(models.TextChoices):
    # DOMAIN.md, "Leaving the register"
    RISK_REDUCED = "risk_reduced", "Risk reduced and stable"
    MOVED_OUT_OF_AREA = "moved_out_of_area", "Moved out of area (transfer)"
    ADULT_REGISTER = "adult_register", "Turned 18 and moved to the adult register"
    TURNED_25 = "turned_25", "Turned 25 (register ends)"
    CONSENT_WITHDRAWN = "consent_withdrawn", "Consent withdrawn"
    DIED = "died", "Died"
    DUPLICATE = "duplicate", "Duplicate record"


class ConsentState(models.TextChoices):
    """The register's copy of where consent stands (dsr.consent keeps it, ADR 0019)."""

    NOT_RECORDED = "", "Not recorded"
    GIVEN = "given", "Given"
    WITHDRAWN = "withdrawn", "Withdrawn"


class MemberKind(models.TextChoices):
    PROFESSIONAL = "professional", "Professional"
    FAMILY = "family", "Family or carer"


class Relationship(models.TextChoices):
    PARENT = "parent", "Parent"
    STEP_PARENT = "step_parent", "Step-parent"
    GRANDPARENT = "grandparent", "Grandparent"
    SIBLING = "sibling", "Brother or sister"
    OTHER_RELATIVE = "other_relative", "Other relative"
    FOSTER_CARER = "foster_carer", "Foster carer"
    KINSHIP_CARER = "kinship_carer", "Kinship carer"
    PAID_CARER = "paid_carer", "Paid carer or support worker"
    ADVOCATE = "advocate", "Advocate"
    OTHER = "other", "Other"


class CircumstanceArea(models.TextChoices):
    # DOMAIN.md "On the register": how they are managing with health, education and social
    # circumstances.
    HEALTH = "health", "Health"
    EDUCATION = "education", "Education"
    SOCIAL = "social", "Social circumstances"


class Standing(models.TextChoices):
    MANAGING_WELL = "well", "Managing well"
    SOME_CONCERNS = "some", "Some concerns"
    SIGNIFICANT_CONCERNS = "significant", "Significant concerns"
