"""French phrases citizens write to their city, as templates (see `templating`).

WHY a data module: the realism of the sample (and of the PII evaluation corpus) lives
in these sentences; keeping them apart from the composition code lets anyone add a
variant without touching logic.

Slots (filled by `texts`): the writer {me} {me_first} {me_last} {me_sign} {civ}
{my_addr} {my_email} {my_phone} {my_dob}, agreement with the writer's gender {e}
("" / "e"), {né} and {Né}; another person {other} {other_first} {other_last} {o_civ} {o_voisin};
places {loc} (a location, or a numbered address when the text carries one)
{addr} {street} {street_of} {in_street} {landmark} {commune} {in_commune}
{of_commune}; time {when};
identifiers {plate} {iban} {nir} {siren} {siret} {card} {ip} {url} {mac} {id_card}
{passport} {tax_id} {caf} {licence} {gps} {intl_phone} {vat}, {iban_split} and {card_split}
(cut by a line break), a neighbour's {be_nn} (Belgian) and {ch_avs} (Swiss) national
numbers; the writer's {my_social} (handle or profile URL), {my_email_spelt} ("...
arobase ... point fr"), {my_email_split} and {my_phone_split} (cut by a line break, as a
mail client wraps a long line).
"""

from __future__ import annotations

GREETINGS = (
    "Bonjour,", "Bonjour,", "Bonjour", "Bonjour Madame, Monsieur,", "Madame, Monsieur,",
    "Bonsoir,", "Bjr,", "Bonjour à vous,", "Bonjour la mairie,", "Bonjour à l'équipe,",
    # an agent the writer already spoke to
    "Bonjour {other_first},", "Bonjour {other_first}, suite à notre échange au téléphone :",
)  # fmt: skip

SIGNALEMENT_INTROS = (
    # without personal data
    "J'habite le quartier depuis [plus de |][dix|quinze|vingt|trente] ans et [je n'ai jamais "
    "vu ça|la situation ne fait qu'empirer|c'est la première fois que je vous écris].",
    "Je me permets de vous écrire [au sujet d'un problème|pour signaler un problème] {in_street}.",
    "En tant que riverain{e} {street_of}, je souhaite vous signaler [ceci|un problème].",
    "Parent d'élève à l'école [Jules Ferry|Jean Moulin|du centre|Louise Michel], je passe "
    "[tous les jours|tous les matins] par là.",
    "Je vous contacte car [personne ne fait rien|le problème dure depuis trop longtemps|"
    "mes voisins n'osent pas le faire].",
    "Petit signalement :",
    "Re-signalement, [rien n'a bougé depuis mon dernier message|toujours pas réparé].",
    # with personal data
    "Je m'appelle {me} et j'habite [au |]{my_addr}.",
    "Je suis {me}, [habitant{e}|locataire|propriétaire] au {my_addr}.",
    "{civ} {me_last}, [locataire|propriétaire] au {my_addr}.",
    "Moi c'est {me_first}, j'habite {in_street} depuis [peu|des années].",
    "Ici {me}, riverain{e} {street_of}.",
    "{me}, {my_addr}.",
    "Je suis {civ} {me_last} [et j'habite au|du] {my_addr}.",
)

PROBLEMS = {
    "voirie": (
        "Il y a un [gros |énorme |]nid-de-poule [au milieu de la chaussée |]{loc}[, juste "
        "avant le passage piéton|]. [Plusieurs voitures ont déjà crevé.|Les vélos font des "
        "écarts dangereux pour l'éviter.|Il se remplit d'eau dès qu'il pleut.|]",
        "La chaussée est complètement défoncée {loc}[ sur une vingtaine de mètres|]. [Des "
        "morceaux de bitume partent partout.|On dirait un champ de mines.|]",
        "Le trottoir est soulevé par les racines {loc}, [ma mère a failli tomber|une personne "
        "âgée est tombée la semaine dernière|impossible de passer avec une poussette].",
        "Une plaque d'égout [bouge|claque] à chaque passage de voiture {loc}[, ça fait un bruit "
        "terrible la nuit|, c'est dangereux pour les deux-roues|].",
        "Affaissement de la chaussée {loc} : un trou [d'environ 30 cm|assez profond] s'est "
        "formé après les travaux [du mois dernier|de GRDF|d'Enedis].",
        "Trou dans la route {loc}.",
        "ya un trou énorme {loc} [faut faire qqch|c'est n'importe quoi]",
        "Les pavés sont descellés {loc} [depuis {when}|], [on se tord les chevilles|les "
        "trottinettes se cassent la figure].",
    ),
    "proprete": (
        "Dépôt sauvage [d'encombrants|de gravats|de sacs poubelles|de vieux meubles et d'un "
        "matelas] {loc}[ depuis {when}|]. [Ça attire les rats.|Ça commence à sentir très "
        "mauvais.|C'est une honte pour le quartier.|]",
        "Les poubelles [débordent|ne sont plus ramassées] {loc} depuis {when}[, les sacs sont "
        "éventrés par les goélands|, il y a des déchets partout sur le trottoir|].",
        "Des tags [ont été faits sur|recouvrent] [la façade de l'école|le mur du gymnase|les "
        "vitres de l'abribus] {loc}[, certains sont insultants|].",
        "Énormément de crottes de chien sur le trottoir {loc}, [c'est dégoûtant|on ne peut "
        "plus marcher sans regarder ses pieds].",
        "Des seringues ont été retrouvées dans le bac à sable {loc}. [Les enfants jouent là !|"
        "C'est très grave.]",
        "Dépôt d'ordures {loc}.",
        "Le conteneur à verre {loc} est plein [depuis {when}|], les gens posent les bouteilles "
        "à côté.",
    ),
    "eclairage": (
        "Le lampadaire {loc} ne fonctionne plus depuis {when}. La rue est plongée dans le "
        "noir[ et on ne se sent pas en sécurité le soir|].",
        "L'éclairage public clignote toute la nuit {loc}[, c'est très pénible pour dormir|].",
        "Plusieurs lampadaires sont éteints {loc}[, notamment celui devant l'arrêt de bus|].",
        "Le feu tricolore {loc} est en panne depuis {when}, c'est très dangereux au carrefour.",
        "L'éclairage reste allumé en plein jour {loc}, quel gaspillage !",
        "Lampadaire HS {loc}.",
    ),
    "espaces_verts": (
        "Les haies {loc} n'ont pas été taillées depuis des mois, elles empiètent sur le trottoir.",
        "Un arbre [menace de tomber|a perdu une grosse branche] {loc} [après l'orage|depuis la "
        "tempête][, la branche pend au-dessus du trottoir|].",
        "Les jeux pour enfants du square {loc} sont cassés[, le toboggan a une planche "
        "arrachée|, la balançoire ne tient plus qu'à une chaîne|].",
        "L'herbe n'est plus tondue {loc}, [il y a des tiques|on ne voit plus les bancs].",
        "L'arrosage automatique fuit {loc} depuis {when}, c'est un gâchis d'eau.",
        "Des chenilles processionnaires dans les pins {loc} !",
    ),
    "stationnement": (
        "Une voiture [ventouse|abandonnée] est garée {loc} depuis {when}[, les pneus sont à "
        "plat|, elle est couverte de feuilles|].",
        "Des véhicules stationnent tous les jours sur la piste cyclable {loc}.",
        "Stationnement gênant permanent sur le passage piéton {loc}, les poussettes doivent "
        "passer sur la route.",
        "Quelqu'un se gare systématiquement sur la place handicapé {loc} sans macaron.",
        "Camion de livraison garé en double file {loc} tous les matins, le bus ne passe plus.",
        "Voiture sur le trottoir {loc} !!",
    ),
    "bruit": (
        "[Les voisins|Les voisins du dessus] font [la fête|du bruit|de la musique à fond] "
        "[tous les week-ends|toutes les nuits|jusqu'à 3h du matin].",
        "Le bar {loc} diffuse de la musique très fort jusqu'à 2h du matin[ avec des clients "
        "qui crient dehors|].",
        "Des travaux commencent à 6h du matin {loc}, même le dimanche.",
        "Un chien aboie [toute la journée|sans arrêt] {loc}[, ses maîtres le laissent seul|].",
        "Rodéos de motos tous les soirs {loc}, [impossible de dormir|c'est infernal].",
        "Nuisances sonores {loc} depuis {when}.",
    ),
    "mobilier_urbain": (
        "Le banc {loc} est cassé[, il manque deux lattes|, on ne peut plus s'asseoir|].",
        "L'abribus {loc} a la vitre brisée, il y a du verre partout.",
        "Un potelet a été arraché {loc}[, il reste un morceau de métal qui dépasse|].",
        "La poubelle publique {loc} est [arrachée|brûlée|descellée].",
        "Le panneau stop {loc} est [tordu|tombé|illisible][, les voitures ne s'arrêtent plus|].",
        "La fontaine à eau {loc} ne marche plus depuis {when}.",
    ),
    "autre": (
        "Des rats [circulent|ont été vus] {loc} en plein jour.",
        "Fuite d'eau importante {loc}, [l'eau coule sur la chaussée|une flaque s'est formée] "
        "depuis {when}.",
        "Un câble électrique pend {loc}, [il est à hauteur d'enfant|c'est dangereux].",
        "Je voudrais savoir quand [les travaux de la rue|la collecte des encombrants|le "
        "ramassage des déchets verts] [reprendront|auront lieu] {loc}.",
        "Beaucoup de pigeons nichent [sous le pont|dans le bâtiment abandonné] {loc}, les "
        "fientes salissent tout.",
        "Nid de frelons asiatiques dans un arbre {loc}.",
    ),
}

DETAILS = {
    "voirie": (
        "[Le trou fait bien 10 cm de profondeur.|Il y a déjà eu un accident de scooter.|La "
        "rustine posée l'an dernier n'a pas tenu.]",
        "{o_voisin} {other} s'est [cassé le poignet|foulé la cheville] en tombant à cet endroit.",
        "La camionnette de chantier immatriculée {plate} se gare dessus tous les jours et "
        "aggrave le trou.",
    ),
    "proprete": (
        "[Les rats sortent le soir.|Les services de ramassage passent sans s'arrêter.|C'est "
        "toujours au même endroit.]",
        "Je sais que c'est {o_civ} {other_last} du {addr} qui dépose ses sacs sur le trottoir.",
        "J'ai vu [une camionnette|une voiture] immatriculée {plate} décharger des gravats "
        "[hier soir|la semaine dernière|ce matin].",
        "Les tags visent nommément {o_civ} {other_last}, qui tient le commerce d'en face.",
    ),
    "eclairage": (
        "[Il y a eu deux cambriolages ce mois-ci.|Les enfants rentrent du collège dans le "
        "noir.|J'ai déjà appelé la mairie annexe.]",
        "{o_voisin}, {other}, a failli se faire renverser en traversant dans le noir.",
    ),
    "espaces_verts": (
        "[Les enfants ne peuvent plus jouer.|Le jardinier n'est pas passé depuis le "
        "printemps.|C'est dommage, c'était un beau parc.]",
        "{o_voisin} {other} coupe les arbres de l'espace vert commun sans autorisation.",
    ),
    "stationnement": (
        "[C'est toujours la même voiture.|La police municipale ne passe jamais.|Les piétons "
        "doivent marcher sur la chaussée.]",
        "Il s'agit d'une [Clio grise|Peugeot 308 noire|camionnette blanche|Twingo rouge] "
        "immatriculée {plate}.",
        "Le véhicule {plate} est là depuis {when}.",
        "La voiture de {o_civ} {other_last} (plaque {plate}) bloque ma sortie de garage.",
        "Plaque : {plate}",
    ),
    "bruit": (
        "[J'ai essayé de leur parler, rien n'y fait.|Mon fils de 2 ans se réveille toutes les "
        "nuits.|Je travaille tôt le matin et je n'en peux plus.]",
        "Il s'agit de {o_civ} {other_last}, au {addr}[, au 2e étage|, porte gauche|]. J'ai "
        "essayé de lui parler mais rien n'y fait.",
        "{o_voisin}, {other}, [met sa musique à fond|fait aboyer son chien|bricole] "
        "[tous les soirs|jusqu'à minuit|le dimanche matin].",
        "Le propriétaire du chien est {o_civ} {other_last}[, au rez-de-chaussée|].",
        "Ça vient du {addr}, mais personne ne répond quand on sonne.",
    ),
    "mobilier_urbain": (
        "[C'est la troisième fois cette année.|Des jeunes s'amusent à le casser.|Les personnes "
        "âgées n'ont plus où s'asseoir.]",
        "J'ai vu le scooter immatriculé {plate} percuter le potelet.",
    ),
    "autre": (
        "[Je ne sais pas à qui m'adresser.|Les commerçants sont inquiets.|Ça dure depuis {when}.]",
        "{o_voisin} {other_last} m'a dit que ça venait de la canalisation de son immeuble.",
    ),
}

# Introduces a second problem in the same report.
ALSO = ("Autre chose :", "Autre problème :", "Et aussi :", "Tant que j'y suis :")

IMPACTS = (
    "C'est [vraiment |très |extrêmement |]dangereux[, surtout pour les enfants|, surtout la "
    "nuit| pour les personnes âgées|].",
    "Ça fait [trois|plusieurs|au moins quatre] fois que je le signale[ sans aucune réponse|] !",
    "Quelqu'un va finir par se blesser.",
    "C'est inadmissible dans une ville comme {commune}.",
    "Les enfants passent par là pour aller à l'école.",
    "Je paie mes impôts comme tout le monde et je trouve ça honteux.",
    "Ras-le-bol !!!",
    "Merci aux agents pour leur travail, je sais que vous faites ce que vous pouvez.",
    "URGENT",
)

REQUESTS = (
    "Merci d'intervenir [rapidement|au plus vite|dès que possible|avant qu'il y ait un accident].",
    "Pourriez-vous envoyer quelqu'un [sur place|pour constater] ?",
    "Que compte faire la mairie ?",
    "Pouvez-vous faire le nécessaire svp ?",
    "Je compte sur vous.",
    "Merci de faire remonter à qui de droit.",
    "Merci de faire qqch rapidement",
)

# Personal data people add without being asked: bank details for a refund, a social
# security number pasted by mistake, a birth date, a company number, their own plate.
SIGNALEMENT_EXTRAS = (
    "[J'ai crevé un pneu|J'ai abîmé ma jante|Mon vélo a été endommagé] à cause de ce "
    "[trou|problème], je demande le remboursement des frais. [Mon RIB pour le "
    "remboursement|Voici mon RIB|IBAN] : {iban}",
    "Je vous joins mon RIB pour le remboursement : {iban}.",
    "[N° de sécurité sociale|Numéro de sécu|NIR] : {nir}",
    "(désolé{e}, j'ai collé mon numéro de sécu par erreur : {nir})",
    "Mon numéro de sécurité sociale si besoin : {nir}.",
    "Je suis [âgé{e}|une personne âgée|invalide] ({né} le {my_dob}) et je ne peux plus "
    "[sortir seul{e}|passer sur ce trottoir].",
    "[Date de naissance : |Date de naissance : le |Ma date de naissance est le ]{my_dob}.",
    "Je suis [gérant{e}|responsable] [de la boulangerie|du restaurant|du garage|de la "
    "pharmacie] {street_of} (SIRET {siret}) et [mes clients se plaignent|cela nuit à mon "
    "activité].",
    "Notre entreprise (SIREN {siren}) [intervient souvent dans le secteur|a un local juste "
    "à côté].",
    "[Merci d'adresser la facture|Pour la facture, merci de l'établir] au nom de mon "
    "entreprise, n° [TVA intracommunautaire|de TVA] {vat}.",
    "Pour info ma voiture est immatriculée {plate}, je me gare [juste à côté|devant].",
)

CONTACTS = (
    # without personal data
    "Merci de me tenir informé{e} de la suite.",
    "J'attends votre retour.",
    "Vous avez mes coordonnées dans le formulaire.",
    # with personal data
    "Mon mail : {my_email_spelt}",
    "Écrivez-moi à {my_email_spelt} (pas de robots svp).",
    "Mon adresse mail :\n{my_email_split}",
    "[Mon mail|Contact] : {my_email_split}",
    "Je suis en déplacement, joignable au {intl_phone}.",
    "Vous pouvez me [contacter|joindre] sur {my_social}.",
    "[Mon insta|Mon profil|Retrouvez-moi sur les réseaux] : {my_social}",
    "Vous pouvez me joindre au {my_phone}.",
    "Je suis joignable la plupart du temps, en semaine comme le week-end, au {my_phone_split}",
    "Mon numéro : {my_phone}",
    "mon num {my_phone}",
    "Tél : {my_phone}",
    "Tel. {my_phone} - mail : {my_email}",
    "N'hésitez pas à me contacter par mail ({my_email}) ou par téléphone au {my_phone}.",
    "Merci de me répondre à {my_email}.",
    "Je suis joignable au {my_phone} [après 18h|le matin|en semaine].",
    "Contact : {my_email}",
    # a form pasted as it is: one field a line, or fields parted by "/", label then value
    "Nom : {me_last}\nPrénom : {me_first}\nTél : {my_phone}",
    "[NOM|Nom] - {me_last} / [PRENOM|Prénom] - {me_first} / [Courriel|Mail] - {my_email}",
    "Nom\t{me_last}\nPrénom\t{me_first}\n[Date de naissance|Né{e} le]\t{my_dob}\n"
    "[Adresse|Domicile]\t{my_addr}",
)

# Identifiers of every other kind, which some people paste into a report or an opinion:
# a card debited twice, their box's IP address, an ID document, a GPS position...
IDENTIFIER_EXTRAS = (
    "Ma carte bancaire {card} a été débitée deux fois pour le stationnement.",
    "[Le paiement par carte|L'horodateur] a échoué, [carte n°|CB] {card}.",
    "Je vous donne mon numéro de carte pour le remboursement : {card}",
    "Le formulaire ne marche pas depuis chez moi, mon adresse IP est {ip}.",
    "[Erreur 403|Accès refusé] sur le site (IP {ip}).",
    "J'ai mis les photos sur mon blog {url}.",
    "Plus de détails [sur mon blog perso|sur ma page perso] : {url}",
    "La borne wifi ne reconnaît pas mon téléphone (adresse MAC {mac}).",
    "Je vous envoie [une copie de |]ma carte d'identité n° {id_card}.",
    "[N° de CNI|Numéro CNI] : {id_card}",
    "Mon numéro de passeport est le {passport}, si besoin pour l'attestation.",
    "Passeport : {passport}",
    "Mon numéro fiscal est le {tax_id} (voir avis d'impôt).",
    "[Numéro fiscal|N° fiscal] : {tax_id}",
    "Je suis allocataire CAF ({caf}) et je ne peux pas payer l'amende.",
    "Mon numéro d'allocataire : {caf}.",
    "Mon numéro de permis de conduire est le {licence}, j'ai perdu des points à cause de "
    "ce panneau.",
    "[N° de permis|Permis de conduire] : {licence}",
    "J'habite en Belgique, mon numéro de registre national est le {be_nn}.",
    "[NISS|N° de registre national] : {be_nn}",
    "Je travaille à Genève, mon numéro AVS : {ch_avs}.",
    "[N° AVS|Numéro AVS] {ch_avs}",
    "Coordonnées GPS du [dépôt sauvage|trou|lampadaire] : {gps}",
    "Position {gps} (prise avec mon téléphone, devant chez moi).",
    "Je vous rappelle mon RIB :\n{iban_split}",
    "Le stationnement a été prélevé deux fois sur ma carte bancaire, la carte numéro {card_split}",
)

CLOSINGS = (
    "Cordialement,", "Cordialement", "Bien cordialement,", "Merci d'avance.", "Merci !",
    "Bonne journée.", "Merci de votre retour.", "Dans l'attente de votre réponse, "
    "cordialement.", "Slt", "Merci beaucoup", "Bien à vous,",
)  # fmt: skip

SIGNATURES = (
    "{me_sign}",
    "{me_sign}",
    "Signé : {me}",
    "— {me}",
    "{civ} {me_last}",
    "{me_sign}\n{my_phone}",
    "{me}\n{my_addr}",
)

OPINION_INTROS = (
    # without personal data
    "Habitant{e} {of_commune} depuis [toujours|vingt ans|peu], voici mon avis.",
    "Je prends [le bus|le tram|la voiture|mon vélo] tous les jours pour aller travailler.",
    "Retraité{e}, je me déplace surtout à pied.",
    "Maman de deux enfants, je fais tout en voiture faute de mieux.",
    "Merci pour cette consultation.",
    "Quelques remarques sur le plan de mobilité :",
    # with personal data
    "Je suis {me}, j'habite {in_street}.",
    "{civ} {me_last}, {my_addr}.",
    "{Né} [le|à Alger le|à Brest, le|en Bretagne le] {my_dob}, je ne conduis plus et je "
    "dépends entièrement des transports.",
    "Je m'appelle {me_first} et je vis {in_street} depuis [dix|vingt] ans.",
)

# Opinions on the mobility plan by topic and stance (neg = answers 1-2, neu = 3, pos = 4-5).
OPINION_TOPICS = {
    "transports": {
        "neg": (
            "Les bus sont [toujours en retard|bondés aux heures de pointe|trop rares le soir "
            "et le week-end].",
            "Le tram s'arrête à 23h, c'est [beaucoup |]trop tôt.",
            "Les tarifs ont encore augmenté, [c'est scandaleux|ça devient inabordable pour "
            "les familles].",
            "Aucun bus ne dessert [notre quartier|la zone d'activité] après 20h.",
            "Les transports en commun sont une catastrophe [{in_commune}|dans notre secteur].",
        ),
        "neu": (
            "Les transports sont corrects mais [la fréquence|l'information voyageurs|la "
            "propreté des rames] pourrait être améliorée.",
            "Le réseau est correct en semaine, beaucoup moins le dimanche.",
        ),
        "pos": (
            "Le réseau de bus s'est bien amélioré[ depuis la nouvelle ligne|].",
            "Je prends le tram tous les jours, c'est pratique et ponctuel.",
            "Bravo pour la gratuité des transports le week-end !",
        ),
    },
    "velo": {
        "neg": (
            "Les pistes cyclables prennent la place des voitures alors qu'elles sont vides "
            "[la moitié de l'année|en hiver].",
            "Les cyclistes ne respectent pas le code de la route[, ils grillent tous les feux|].",
            "À mon âge je ne vais pas me mettre au vélo.",
        ),
        "neu": (
            "Pour le vélo, pourquoi pas, mais pas au détriment des bus.",
            "Des pistes cyclables oui, mais bien séparées des piétons.",
        ),
        "pos": (
            "Il faut [absolument |]plus de pistes cyclables sécurisées[, séparées des voitures|].",
            "Je vais au travail à vélo[, mais certains carrefours sont très dangereux|, et les "
            "nouvelles pistes ont changé ma vie].",
            "Plus d'arceaux pour garer les vélos près de la gare svp.",
        ),
    },
    "pietons": {
        "neg": (
            "La piétonnisation va tuer les commerces du centre[, les clients viennent en "
            "voiture|].",
            "Comment font les personnes âgées et handicapées si on ne peut plus se garer près "
            "des commerces ?",
        ),
        "neu": (
            "Piétonniser le samedi seulement serait un bon compromis.",
            "Pourquoi pas un centre piéton, si les livraisons restent possibles le matin.",
        ),
        "pos": (
            "Un centre-ville piéton serait [plus agréable|plus sûr pour les enfants|bien "
            "moins bruyant].",
            "Enfin ! Les trottoirs sont trop étroits, on marche sur la route.",
        ),
    },
}

OPINION_GENERAL = (
    "J'espère que nos avis seront vraiment pris en compte, pas comme la dernière fois.",
    "Il faudrait penser aux personnes à mobilité réduite : trottoirs trop étroits, pas de "
    "bateaux aux passages piétons.",
    "Le stationnement en centre-ville est devenu impossible[ et trop cher|].",
    "La ZFE pénalise ceux qui n'ont pas les moyens de changer de voiture.",
    "Rien à ajouter.",
    "Pensez aux quartiers périphériques, pas seulement au centre.",
)

OPINION_EXTRAS = (
    "Ma voiture ({plate}) a été verbalisée alors que les places de livraison sont toujours vides.",
    "En tant que commerçant{e} {street_of} (SIRET {siret}), je m'inquiète pour mon chiffre "
    "d'affaires.",
    "{o_voisin}, {o_civ} {other_last}, ne peut plus aller au marché depuis que le bus a été "
    "supprimé.",
    "Pour le remboursement de mon abonnement pendant les grèves, voici mon RIB : {iban}",
    "N° sécu : {nir}",
    "Personne âgée ({né} le {my_dob}), je ne peux plus marcher jusqu'à l'arrêt de bus.",
)

OPINION_CONTACTS = (
    "Je suis disponible pour en parler : {my_email}.",
    "Contactez-moi au {my_phone} si vous voulez des précisions.",
    "Mon mail si besoin : {my_email}",
)

OPINION_CLOSINGS = ("Cordialement.", "Merci.", "Bonne continuation.", "Merci de nous consulter !")
