"""Real French communes with their postcodes, for synthetic submissions.

WHY: generalization by postcode (postcode → département → région) and small-cell
suppression only get exercised if postcodes are real and unevenly populated: big
cities with many postcodes (Paris, Lyon, Marseille by arrondissement), suburbs,
small towns, Corsica (2A/2B share the "20" prefix) and overseas (3-digit
départements). Weights are rough populations in thousands, used to skew draws.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import cache
from itertools import accumulate


@dataclass(frozen=True)
class Commune:
    name: str
    postcode: str
    departement: str
    weight: float


def _rows(departement: str, entries: str) -> list[Commune]:
    """Parse "Name:postcode:weight; ..." (compact, readable data) into communes."""
    communes = []
    for entry in entries.split(";"):
        name, postcode, weight = (part.strip() for part in entry.split(":"))
        communes.append(Commune(name, postcode, departement, float(weight)))
    return communes


COMMUNES: tuple[Commune, ...] = tuple(
    _rows(
        "75",
        "Paris:75001:16; Paris:75002:21; Paris:75003:33; Paris:75004:28; Paris:75005:57;"
        "Paris:75006:40; Paris:75007:48; Paris:75008:35; Paris:75009:59; Paris:75010:83;"
        "Paris:75011:142; Paris:75012:140; Paris:75013:178; Paris:75014:135; Paris:75015:229;"
        "Paris:75016:162; Paris:75017:166; Paris:75018:190; Paris:75019:183; Paris:75020:192",
    )
    + _rows(
        "69",
        "Lyon:69001:30; Lyon:69002:31; Lyon:69003:104; Lyon:69004:35; Lyon:69005:48;"
        "Lyon:69006:52; Lyon:69007:86; Lyon:69008:86; Lyon:69009:51; Villeurbanne:69100:155;"
        "Vénissieux:69200:67; Vaulx-en-Velin:69120:52; Caluire-et-Cuire:69300:43; Bron:69500:42;"
        "Saint-Priest:69800:48; Oullins:69600:26; Rillieux-la-Pape:69140:31; Meyzieu:69330:34;"
        "Décines-Charpieu:69150:28; Villefranche-sur-Saône:69400:37; Tassin-la-Demi-Lune:69160:22;"
        "Écully:69130:18; Givors:69700:20; Sainte-Foy-lès-Lyon:69110:22",
    )
    + _rows(
        "13",
        "Marseille:13001:40; Marseille:13002:25; Marseille:13003:50; Marseille:13004:50;"
        "Marseille:13005:45; Marseille:13006:43; Marseille:13007:35; Marseille:13008:80;"
        "Marseille:13009:75; Marseille:13010:57; Marseille:13011:58; Marseille:13012:62;"
        "Marseille:13013:92; Marseille:13014:63; Marseille:13015:82; Marseille:13016:17;"
        "Aix-en-Provence:13090:70; Aix-en-Provence:13100:75; Arles:13200:51; Martigues:13500:49;"
        "Aubagne:13400:47; Istres:13800:44; Salon-de-Provence:13300:45; Vitrolles:13127:34;"
        "Marignane:13700:33; La Ciotat:13600:36; Gardanne:13120:21; Miramas:13140:27",
    )
    + _rows(
        "92",
        "Boulogne-Billancourt:92100:121; Nanterre:92000:96; Courbevoie:92400:82;"
        "Colombes:92700:86; Asnières-sur-Seine:92600:87; Rueil-Malmaison:92500:79;"
        "Issy-les-Moulineaux:92130:69; Levallois-Perret:92300:66; Neuilly-sur-Seine:92200:59;"
        "Antony:92160:63; Clichy:92110:63; Montrouge:92120:50",
    )
    + _rows(
        "93",
        "Saint-Denis:93200:113; Montreuil:93100:111; Aubervilliers:93300:88;"
        "Aulnay-sous-Bois:93600:86; Drancy:93700:72; Noisy-le-Grand:93160:69; Pantin:93500:60;"
        "Bondy:93140:54; Épinay-sur-Seine:93800:55; Bobigny:93000:55",
    )
    + _rows(
        "94",
        "Créteil:94000:92; Vitry-sur-Seine:94400:95; Champigny-sur-Marne:94500:77;"
        "Saint-Maur-des-Fossés:94100:75; Ivry-sur-Seine:94200:64; Maisons-Alfort:94700:56;"
        "Fontenay-sous-Bois:94120:53; Villejuif:94800:56; Vincennes:94300:50",
    )
    + _rows(
        "33",
        "Bordeaux:33000:110; Bordeaux:33100:45; Bordeaux:33200:40; Bordeaux:33300:35;"
        "Bordeaux:33800:30; Mérignac:33700:72; Pessac:33600:66; Talence:33400:44;"
        "Villenave-d'Ornon:33140:37; Bègles:33130:30; Le Bouscat:33110:24; Gradignan:33170:26;"
        "Libourne:33500:25; Arcachon:33120:12",
    )
    + _rows(
        "31",
        "Toulouse:31000:95; Toulouse:31100:90; Toulouse:31200:85; Toulouse:31300:75;"
        "Toulouse:31400:80; Toulouse:31500:70; Colomiers:31770:39; Tournefeuille:31170:29;"
        "Muret:31600:25; Blagnac:31700:25; Balma:31130:17; Saint-Gaudens:31800:11;"
        "L'Union:31240:12; Castanet-Tolosan:31320:14",
    )
    + _rows(
        "59",
        "Lille:59000:160; Lille:59800:75; Roubaix:59100:98; Tourcoing:59200:98;"
        "Villeneuve-d'Ascq:59650:62; Dunkerque:59140:87; Valenciennes:59300:43; Douai:59500:39;"
        "Wattrelos:59150:40; Marcq-en-Barœul:59700:39; Cambrai:59400:32; Maubeuge:59600:29",
    )
    + _rows(
        "67",
        "Strasbourg:67000:130; Strasbourg:67100:90; Strasbourg:67200:70; Haguenau:67500:35;"
        "Schiltigheim:67300:34; Illkirch-Graffenstaden:67400:27; Sélestat:67600:19;"
        "Saverne:67700:11; Bischheim:67800:17; Lingolsheim:67380:19",
    )
    + _rows(
        "44",
        "Nantes:44000:110; Nantes:44100:80; Nantes:44200:50; Nantes:44300:80;"
        "Saint-Nazaire:44600:72; Saint-Herblain:44800:49; Rezé:44400:43; Orvault:44700:27;"
        "Vertou:44120:25; Carquefou:44470:21",
    )
    + _rows(
        "35",
        "Rennes:35000:120; Rennes:35200:55; Rennes:35700:45; Saint-Malo:35400:47;"
        "Fougères:35300:20; Vitré:35500:19; Cesson-Sévigné:35510:18; Bruz:35170:19",
    )
    + _rows(
        "34",
        "Montpellier:34000:120; Montpellier:34070:60; Montpellier:34080:60;"
        "Montpellier:34090:60; Béziers:34500:79; Sète:34200:44; Lunel:34400:26; Agde:34300:29;"
        "Castelnau-le-Lez:34170:24; Lattes:34970:17",
    )
    + _rows(
        "06",
        "Nice:06000:95; Nice:06100:90; Nice:06200:80; Nice:06300:80; Antibes:06600:73;"
        "Cannes:06400:74; Grasse:06130:50; Cagnes-sur-Mer:06800:52; Menton:06500:30",
    )
    + _rows(
        "2A",
        "Ajaccio:20000:52; Ajaccio:20090:20; Porto-Vecchio:20137:12; Propriano:20110:4;"
        "Sartène:20100:3; Bonifacio:20169:3",
    )
    + _rows(
        "2B",
        "Bastia:20200:38; Bastia:20600:10; Corte:20250:7; Calvi:20260:5.5;"
        "L'Île-Rousse:20220:3; Biguglia:20620:9; Borgo:20290:9",
    )
    + _rows(
        "971",
        "Les Abymes:97139:53; Pointe-à-Pitre:97110:15; Baie-Mahault:97122:31;"
        "Le Gosier:97190:26; Sainte-Anne:97180:24",
    )
    + _rows(
        "974",
        "Saint-Denis:97400:120; Saint-Denis:97490:30; Saint-Paul:97460:105;"
        "Saint-Pierre:97410:84; Le Tampon:97430:80; Saint-André:97440:57",
    )
)


@cache
def _cumulative_weights() -> tuple[float, ...]:
    return tuple(accumulate(c.weight for c in COMMUNES))


def pick_commune(rng: random.Random) -> Commune:
    """A commune drawn with probability proportional to its population."""
    return rng.choices(COMMUNES, cum_weights=_cumulative_weights())[0]
