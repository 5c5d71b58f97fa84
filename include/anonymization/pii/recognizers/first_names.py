"""First names people in France (and English writers) commonly bear, to tell a signature.

Where a capital letter is missing ("enzo l.") or the signature does not stand on
a line of its own ("... mon numéro : 06 12 34 56 78 enzo l."), the first name is
what says that the last words of a message are a name. The list was written by
hand from the names given most often in France over the last ninety years (as
the INSEE first-name statistics show them), the names of families from the
Maghreb, West Africa, Portugal, Turkey and Vietnam common there, and common
British and American names; it is deliberately independent from the sample
generator's pools, so that the evaluation measures the lexicon, not a copy of
the test data. Words that are mostly something else ("may", "june", "will",
"hope", "amber", "violet") are left out. In English texts a known first name
alone inside a sentence is a person (`english_first_names`).

Compared without case or accents: citizens also write "ines", "lea", "chloe".
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_FRENCH_FEMALE = (
    "adèle", "adeline", "adrienne", "agathe", "agnès", "aïcha", "albane", "alexandra", "alexia",
    "alice", "aline", "alix", "amandine", "ambre", "amélie", "anaëlle", "anaïs", "andrée", "angèle",
    "angélique", "anna", "anne", "annick", "annie", "anouk", "antoinette", "apolline", "arlette",
    "armelle", "astrid", "audrey", "aurélie", "aurore", "axelle", "béatrice", "bérénice",
    "bernadette", "blanche", "brigitte", "camille", "capucine", "carole", "caroline", "catherine",
    "cécile", "céline", "chantal", "charlotte", "chloé", "christelle", "christiane", "christine",
    "claire", "clara", "claudine", "clémence", "clotilde", "colette", "constance", "coralie",
    "corinne",
    "cynthia", "danièle", "danielle", "delphine", "denise", "diane", "dominique", "dorothée",
    "édith", "éléonore", "éliane", "élisa", "élisabeth", "élise", "élodie", "éloïse", "émilie",
    "emma", "emmanuelle", "estelle", "éva", "évelyne", "fabienne", "fanny", "florence", "francine",
    "françoise", "frédérique", "gabrielle", "gaëlle", "geneviève", "georgette", "germaine",
    "ghislaine", "ginette", "gisèle", "hélène", "héloïse", "henriette", "hortense", "huguette",
    "inès", "ingrid", "irène", "iris", "isabelle", "jacqueline", "jade", "jeanne", "jeannine",
    "jocelyne", "joëlle", "joséphine", "josette", "josiane", "julia", "julie", "juliette",
    "justine", "karine", "laetitia", "laëtitia", "laura", "laure", "laurence", "laurène", "léa",
    "léna", "léonie", "liliane", "lina", "lisa", "lise", "lola", "louise", "louna", "lucette",
    "lucie", "lucienne", "lucile", "ludivine", "luna", "lydie", "madeleine", "maëlle", "maëlys",
    "magali", "manon", "marcelle", "margaux", "margot", "marguerite", "maria", "marianne", "marie",
    "marine", "marion", "marthe", "martine", "maryse", "mathilde", "maud", "mégane", "mélanie",
    "mélissa", "mia", "michèle", "micheline", "michelle", "mila", "mireille", "monique", "morgane",
    "muriel", "myriam", "nadège", "nadine", "nathalie", "nelly", "nicole", "nina", "noémie",
    "océane", "odette", "odile", "olivia", "ophélie", "pascale", "patricia", "paule", "paulette",
    "pauline", "pénélope", "perrine", "pierrette", "rachel", "raymonde", "régine", "renée",
    "romane", "rosalie", "rose", "roselyne", "sabine", "salomé", "sandra", "sandrine", "sarah",
    "séverine", "simone", "solange", "solène", "sophie", "stéphanie", "suzanne", "sylviane",
    "sylvie", "thérèse", "valentine", "valérie", "vanessa", "véronique", "victoire", "violette",
    "virginie", "viviane", "yolande", "yvette", "yvonne", "zélie", "zoé",
)  # fmt: skip
_FRENCH_MALE = (
    "aaron", "adam", "adrien", "alain", "albert", "alex", "alexandre", "alexis", "alfred",
    "alphonse", "anatole", "andré", "anthony", "antoine", "armand", "arnaud", "arthur", "auguste",
    "augustin", "aurélien", "axel", "baptiste", "bastien", "benjamin", "benoît", "bernard",
    "bertrand", "bruno", "cédric", "charles", "christian", "christophe", "claude", "clément",
    "corentin", "cyril", "damien", "daniel", "david", "denis", "didier", "dylan", "edmond",
    "édouard", "elias", "éliott", "émile", "emmanuel", "enzo", "éric", "ernest", "étienne",
    "eugène", "evan", "fabien", "fabrice", "félix", "fernand", "florent", "florian", "franck",
    "françois", "frédéric", "gabin", "gabriel", "gaël", "gaspard", "gaston", "georges", "gérald",
    "gérard", "germain", "gilbert", "gilles", "grégoire", "grégory", "guillaume", "gustave", "guy",
    "henri", "hervé", "hippolyte", "hubert", "hugo", "hugues", "isaac", "jacky", "jacques", "jean",
    "jérémy", "jérôme", "joachim", "joël", "jonathan", "jordan", "joseph", "jules", "julien",
    "justin", "kévin", "killian", "kylian", "laurent", "léo", "léon", "lionel", "loïc", "loris",
    "louis", "luc", "lucas", "lucien", "ludovic", "maël", "marc", "marcel", "marius", "martin",
    "mathéo", "mathias", "mathieu", "mathis", "mattéo", "matthieu", "maurice", "maxence", "maxime",
    "michaël", "michel", "mickaël", "milo", "nathan", "nicolas", "noah", "noé", "noël", "nolan",
    "octave", "olivier", "oscar", "pascal", "patrice", "patrick", "paul", "philippe", "pierre",
    "quentin", "raoul", "raphaël", "raymond", "régis", "rémi", "rémy", "renaud", "rené", "robert",
    "robin", "roger", "roland", "romain", "sacha", "samuel", "sébastien", "serge", "simon",
    "stéphane", "sylvain", "théo", "théodore", "théophile", "thibault", "thibaut", "thierry",
    "thomas", "timéo", "timothée", "titouan", "tristan", "valentin", "victor", "vincent", "xavier",
    "yanis", "yann", "yannick", "yves", "zacharie",
)  # fmt: skip
# Names from families of Maghrebi, West African, Portuguese, Spanish, Italian, Turkish,
# Vietnamese or Eastern European descent, frequent in France.
_WIDER_FRANCE = (
    "abdel", "abdelkader", "abdoulaye", "ahmed", "aïssatou", "ali", "amadou", "amina",
    "aminata", "amine", "amir", "antonio", "awa", "ayoub", "aylin", "ayşe", "bilal", "carla",
    "carlos", "chiara", "diego", "djeneba", "elena", "elif", "emre", "farid", "farida",
    "fatima", "fatou", "fatoumata", "francisco", "giulia", "hakim", "hamza", "hanane", "hawa",
    "hind", "hüseyin", "ibrahim", "ilyes", "imane", "ismaël", "jamila", "joão", "josé", "juan",
    "kadiatou", "karim", "karima", "khadija", "khaled", "latifa", "leïla", "lorenzo", "luca",
    "lucia", "luis", "malika", "mamadou", "manuel", "mariam", "marco", "mehdi", "mehmet",
    "meriem", "miguel", "minh", "mohamed", "mohammed", "moussa", "mustafa", "nabil", "nadia",
    "naïma", "nassim", "natacha", "nora", "nour", "nuno", "olga", "omar", "ousmane", "paulo",
    "pedro", "rachid", "rachida", "rafael", "rayan", "rayane", "rui", "saïd", "salma", "samir",
    "samira", "sergio", "sofia", "sofiane", "soraya", "tatiana", "walid", "yasmina", "yasmine",
    "yassine", "youssef", "younes", "yousra", "zeynep",
)  # fmt: skip
_ENGLISH = (
    "abigail", "aidan", "alan", "alexander", "alfie", "alison", "alistair", "allison",
    "amanda", "amelia", "amy", "andrew", "andy", "angela", "anita", "ann", "annabel",
    "annette", "archie", "ashley", "austin", "ava", "barbara", "barry", "ben", "bethany",
    "betty", "beverley", "beverly", "billy", "bradley", "brandon", "brenda", "brendan",
    "brian", "bridget", "brittany", "bryan", "caitlin", "callum", "cameron", "carl", "carly",
    "carol", "carolyn", "cassandra", "charlie", "cheryl", "chris", "christina", "christopher",
    "ciara", "clare", "clive", "colin", "connor", "conor", "courtney", "craig", "daisy",
    "damian", "danny", "darren", "dave", "dean", "debbie", "deborah", "debra", "declan",
    "dennis", "derek", "diana", "dominic", "donald", "donna", "dorothy", "douglas", "duncan",
    "eddie", "edward", "eileen", "eleanor", "elizabeth", "ella", "ellie", "elliot", "elliott",
    "emily", "erin", "ethan", "evie", "ewan", "faye", "finn", "fiona", "frances", "fraser",
    "freddie", "freya", "gareth", "garry", "gary", "gavin", "gemma", "geoffrey", "george",
    "georgia", "georgina", "geraldine", "gillian", "gloria", "gordon", "grace", "graham",
    "greg", "gregory", "gwen", "hannah", "harold", "harriet", "harry", "harvey", "hayley",
    "hazel", "heather", "heidi", "helen", "henry", "hilary", "holly", "howard", "hugh", "ian",
    "imogen", "isabella", "isla", "jack", "jacob", "jake", "james", "jamie", "jane", "janet",
    "janice", "jasmine", "jason", "jay", "jayne", "jeffrey", "jemma", "jenna", "jennifer",
    "jenny", "jessica", "jill", "jim", "jimmy", "joan", "joanna", "joanne", "jodie", "joe",
    "john", "jon", "joshua", "joyce", "judith", "karen", "karl", "kate", "katherine",
    "kathleen", "katie", "kayleigh", "keith", "kelly", "kenneth", "kerry", "kevin", "kieran",
    "kimberly", "kirsty", "kristen", "kyle", "larry", "lauren", "leah", "leanne", "lee",
    "lesley", "leslie", "lewis", "liam", "lily", "linda", "lindsay", "lloyd", "logan",
    "lorraine", "lucy", "luke", "lydia", "lynn", "lynne", "madison", "malcolm", "mandy",
    "marcus", "margaret", "marilyn", "mark", "martha", "mary", "matthew", "maureen", "maxine",
    "megan", "melissa", "michael", "millie", "miranda", "mitchell", "molly", "nancy", "naomi",
    "natalie", "neil", "niall", "nicholas", "nicola", "nigel", "norma", "oliver", "owen",
    "paige", "pamela", "paula", "peter", "phil", "philip", "phoebe", "poppy", "rachael",
    "ralph", "rebecca", "reece", "rhys", "richard", "robbie", "ronald", "rory", "ross", "roy",
    "ruby", "russell", "ruth", "ryan", "sally", "sam", "samantha", "sara", "scott", "sean",
    "shane", "shannon", "sharon", "shaun", "sheila", "shirley", "sian", "sidney", "sonia",
    "sophia", "spencer", "stacey", "stanley", "stella", "stephen", "steve", "steven",
    "stewart", "stuart", "susan", "sylvia", "tanya", "teresa", "terry", "theresa", "timothy",
    "tina", "toby", "tom", "tommy", "toni", "tony", "tracey", "trevor", "tyler", "vicky",
    "walter", "warren", "wayne", "wendy", "wesley", "william", "zachary", "zara", "zoe",
)  # fmt: skip


@lru_cache(maxsize=8192)
def fold(word: str) -> str:
    """Lower case, accents and diaeresis dropped: "Inès" and "ines" compare equal."""
    decomposed = unicodedata.normalize("NFD", word.casefold())
    return "".join(char for char in decomposed if not unicodedata.combining(char))


FIRST_NAMES: frozenset[str] = frozenset(
    fold(name) for name in (*_FRENCH_FEMALE, *_FRENCH_MALE, *_WIDER_FRANCE, *_ENGLISH)
)


def is_first_name(word: str) -> bool:
    """Whether `word` is a known first name, or a compound one starting with a known one.

    "Jean-Pierre" and "marie-claire" count through their first part.
    """
    folded = fold(word)
    return folded in FIRST_NAMES or folded.split("-", 1)[0] in FIRST_NAMES
